"""On-call escalations and their steps.

Revision ID: 0013_oncall_escalations
Revises: 0010_callbacks
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_oncall_escalations"
down_revision: str | None = "0010_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_uniqueid", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("pass_number", sa.Integer(), nullable=False),
        sa.Column("technician", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_escalations")),
        sa.UniqueConstraint("caller_uniqueid", name=op.f("uq_oncall_escalations_caller_uniqueid")),
    )
    op.create_index(
        op.f("ix_oncall_escalations_state"), "oncall_escalations", ["state"], unique=False
    )
    op.create_index(
        op.f("ix_oncall_escalations_updated_at"), "oncall_escalations", ["updated_at"], unique=False
    )
    op.create_table(
        "oncall_escalation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_uniqueid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("pass_number", sa.Integer(), nullable=False),
        sa.Column("technician", sa.String(length=200), nullable=True),
        sa.Column("waited_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_escalation_steps")),
    )
    op.create_index(
        op.f("ix_oncall_escalation_steps_caller_uniqueid"),
        "oncall_escalation_steps",
        ["caller_uniqueid"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_oncall_escalation_steps_caller_uniqueid"), table_name="oncall_escalation_steps"
    )
    op.drop_table("oncall_escalation_steps")
    op.drop_index(op.f("ix_oncall_escalations_updated_at"), table_name="oncall_escalations")
    op.drop_index(op.f("ix_oncall_escalations_state"), table_name="oncall_escalations")
    op.drop_table("oncall_escalations")
