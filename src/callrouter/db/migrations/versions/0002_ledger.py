"""The points ledger: movements, recharge codes, incidents and their history.

Revision ID: 0002_ledger
Revises: 0001_identity
Create Date: 2025-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ledger"
down_revision: str | None = "0001_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("chosen_pass", sa.String(length=16), nullable=False),
        sa.Column("third_party", sa.Boolean(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("classification", sa.String(length=20), nullable=False),
        sa.Column("price", sa.Integer(), nullable=True),
        sa.Column("debited", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opening_call", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_key", sa.String(length=160), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("debited >= 0", name=op.f("ck_incidents_debited_not_negative")),
        sa.CheckConstraint(
            "price IS NULL OR price >= 0", name=op.f("ck_incidents_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_incidents_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("open_key", name=op.f("uq_incidents_open_key")),
    )
    op.create_index(op.f("ix_incidents_account_id"), "incidents", ["account_id"], unique=False)
    op.create_table(
        "recharge_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("pack_reference", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(redeemed_at IS NULL) = (redeemed_by IS NULL)",
            name=op.f("ck_recharge_codes_redeemed_at_and_by_together"),
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_recharge_codes_points_positive")),
        sa.ForeignKeyConstraint(
            ["redeemed_by"], ["accounts.id"], name=op.f("fk_recharge_codes_redeemed_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recharge_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recharge_codes_code_hash")),
    )
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("call", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_events_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_incident_events_idempotency_key")),
    )
    op.create_index(
        op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False
    )
    op.create_table(
        "ledger_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("recharge_code_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.CheckConstraint(
            "(kind = 'credit' AND amount > 0) OR (kind = 'refund' AND amount > 0)"
            " OR (kind = 'debit' AND amount < 0) OR (kind = 'adjustment' AND amount <> 0)",
            name=op.f("ck_ledger_movements_amount_matches_kind"),
        ),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_ledger_movements_balance_after_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_movements_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_ledger_movements_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["recharge_code_id"],
            ["recharge_codes.id"],
            name=op.f("fk_ledger_movements_recharge_code_id_recharge_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_movements")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_movements_idempotency_key")),
    )
    op.create_index(
        "ix_ledger_movements_account_id_id", "ledger_movements", ["account_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_movements_incident_id"), "ledger_movements", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_movements_incident_id"), table_name="ledger_movements")
    op.drop_index("ix_ledger_movements_account_id_id", table_name="ledger_movements")
    op.drop_table("ledger_movements")
    op.drop_index(op.f("ix_incident_events_incident_id"), table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_table("recharge_codes")
    op.drop_index(op.f("ix_incidents_account_id"), table_name="incidents")
    op.drop_table("incidents")
