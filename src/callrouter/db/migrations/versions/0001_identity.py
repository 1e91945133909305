"""Points accounts, beneficiaries and call records.

Revision ID: 0001_identity
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_identity"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("web_code_hash", sa.String(length=255), nullable=False),
        sa.Column("balance", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pin_failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("web_failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("web_locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_accounts_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_accounts_number")),
    )
    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_beneficiaries_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiaries")),
    )
    op.create_index(
        op.f("ix_beneficiaries_account_id"), "beneficiaries", ["account_id"], unique=False
    )
    op.create_index(
        "ix_beneficiaries_active_caller_id",
        "beneficiaries",
        ["caller_id"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.String(length=64), nullable=False),
        sa.Column("account_number", sa.String(length=16), nullable=True),
        sa.Column("caller_status", sa.String(length=16), nullable=False),
        sa.Column("chosen_pass", sa.String(length=16), nullable=True),
        sa.Column("window", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=True),
        sa.Column("queue_priority", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("failsafe", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
    )
    op.create_index(
        op.f("ix_call_records_decided_at"), "call_records", ["decided_at"], unique=False
    )
    op.create_index(op.f("ix_call_records_uniqueid"), "call_records", ["uniqueid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_call_records_uniqueid"), table_name="call_records")
    op.drop_index(op.f("ix_call_records_decided_at"), table_name="call_records")
    op.drop_table("call_records")
    op.drop_index("ix_beneficiaries_active_caller_id", table_name="beneficiaries")
    op.drop_index(op.f("ix_beneficiaries_account_id"), table_name="beneficiaries")
    op.drop_table("beneficiaries")
    op.drop_table("accounts")
