"""Experts: who covers which domain, their working hours' window, their absences.

Revision ID: 0009_experts
Revises: 0012_oncall_roster
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_experts"
down_revision: str | None = "0012_oncall_roster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("interface", sa.String(length=120), nullable=False),
        sa.Column("hours", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experts")),
    )
    for column in ("name", "interface"):
        op.create_index(
            f"ix_experts_active_{column}",
            "experts",
            [column],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
    op.create_table(
        "expert_domains",
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_expert_domains_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("expert_id", "domain", name=op.f("pk_expert_domains")),
    )
    op.create_index(op.f("ix_expert_domains_domain"), "expert_domains", ["domain"])
    op.create_table(
        "expert_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_expert_absences_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_expert_absences_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_absences")),
    )
    op.create_index(op.f("ix_expert_absences_expert_id"), "expert_absences", ["expert_id"])


def downgrade() -> None:
    op.drop_table("expert_absences")
    op.drop_table("expert_domains")
    op.drop_table("experts")
