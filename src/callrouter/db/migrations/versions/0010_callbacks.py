"""The 4-hour callbacks and their attempts (Pass 4H).

Revision ID: 0010_callbacks
Revises: 0014_emergency_holds
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_callbacks"
down_revision: str | None = "0014_emergency_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_CALLBACK = "closed_at IS NULL"
_OPEN_ATTEMPT = "outcome IS NULL"


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_tries", sa.Integer(), nullable=False),
        sa.Column("passed_over", sa.Text(), nullable=False),
        sa.Column("open_attempt_id", sa.Integer(), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=24), nullable=True),
        sa.CheckConstraint(
            "customer_tries >= 0", name=op.f("ck_callbacks_customer_tries_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_callbacks_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_callbacks_incident_id")),
    )
    op.create_index(
        "ix_callbacks_open_due_at",
        "callbacks",
        ["due_at"],
        postgresql_where=sa.text(_OPEN_CALLBACK),
        sqlite_where=sa.text(_OPEN_CALLBACK),
    )
    op.create_index(
        "ix_callbacks_open_not_before",
        "callbacks",
        ["not_before"],
        postgresql_where=sa.text(_OPEN_CALLBACK),
        sqlite_where=sa.text(_OPEN_CALLBACK),
    )
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=64), nullable=False),
        sa.Column("interface", sa.String(length=128), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expert_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customer_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name=op.f("fk_callback_attempts_callback_id_callbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    op.create_index(op.f("ix_callback_attempts_callback_id"), "callback_attempts", ["callback_id"])
    op.create_index(
        "uq_callback_attempts_one_open",
        "callback_attempts",
        ["callback_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN_ATTEMPT),
        sqlite_where=sa.text(_OPEN_ATTEMPT),
    )


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_table("callbacks")
