"""The on-call roster: technicians, one rotation per layer, overrides.

Revision ID: 0012_oncall_roster
Revises: 0007_call_record_outcome
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_oncall_roster"
down_revision: str | None = "0007_call_record_outcome"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_people")),
        sa.UniqueConstraint("name", name=op.f("uq_oncall_people_name")),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_oncall_people_feed_token_hash")),
    )
    op.create_table(
        "oncall_rotations",
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("shift_days", sa.Integer(), nullable=False),
        sa.Column("handoff_at", sa.Time(), nullable=False),
        sa.Column("first_handoff", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "shift_days >= 1", name=op.f("ck_oncall_rotations_shift_at_least_a_day")
        ),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_oncall_rotations")),
    )
    op.create_table(
        "oncall_rotation_members",
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer"],
            ["oncall_rotations.layer"],
            name=op.f("fk_oncall_rotation_members_layer_oncall_rotations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_people.id"],
            name=op.f("fk_oncall_rotation_members_person_id_oncall_people"),
        ),
        sa.PrimaryKeyConstraint("layer", "position", name=op.f("pk_oncall_rotation_members")),
    )
    op.create_index(
        op.f("ix_oncall_rotation_members_person_id"),
        "oncall_rotation_members",
        ["person_id"],
    )
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_oncall_overrides_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["oncall_people.id"],
            name=op.f("fk_oncall_overrides_replaces_id_oncall_people"),
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["oncall_people.id"], name=op.f("fk_oncall_overrides_by_id_oncall_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_overrides")),
    )
    op.create_index(op.f("ix_oncall_overrides_replaces_id"), "oncall_overrides", ["replaces_id"])
    op.create_index(op.f("ix_oncall_overrides_by_id"), "oncall_overrides", ["by_id"])
    op.create_index(op.f("ix_oncall_overrides_ends_at"), "oncall_overrides", ["ends_at"])


def downgrade() -> None:
    op.drop_table("oncall_overrides")
    op.drop_table("oncall_rotation_members")
    op.drop_table("oncall_rotations")
    op.drop_table("oncall_people")
