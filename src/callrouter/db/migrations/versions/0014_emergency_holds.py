"""Emergency holds: points set aside at routing, posted when a technician confirms.

`accounts.held` caches the sum of the pending holds, with a CHECK that it stays within the
balance (what can be spent, balance - held, never goes below zero); `ledger_holds` keeps
each hold, one per call. A posted hold's debit is an ordinary movement of its incident.

Revision ID: 0014_emergency_holds
Revises: 0011_appointments
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_emergency_holds"
down_revision: str | None = "0011_appointments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("held", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.create_check_constraint("held_within_balance", "held >= 0 AND held <= balance")
    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("call", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_holds_amount_positive")),
        sa.CheckConstraint(
            "state IN ('pending', 'posted', 'voided')", name=op.f("ck_ledger_holds_state_known")
        ),
        sa.CheckConstraint(
            "(state = 'pending') = (resolved_at IS NULL)",
            name=op.f("ck_ledger_holds_resolved_when_done"),
        ),
        sa.CheckConstraint(
            "(state = 'posted') = (incident_id IS NOT NULL)",
            name=op.f("ck_ledger_holds_posted_with_incident"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_holds_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_ledger_holds_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("call", name=op.f("uq_ledger_holds_call")),
    )
    op.create_index(
        op.f("ix_ledger_holds_account_id"), "ledger_holds", ["account_id"], unique=False
    )
    op.create_index(
        "ix_ledger_holds_state_placed_at", "ledger_holds", ["state", "placed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_holds_state_placed_at", table_name="ledger_holds")
    op.drop_index(op.f("ix_ledger_holds_account_id"), table_name="ledger_holds")
    op.drop_table("ledger_holds")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("ck_accounts_held_within_balance", type_="check")
        batch.drop_column("held")
