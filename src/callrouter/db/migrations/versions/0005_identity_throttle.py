"""Throttle counters per pair, source, account and hotline; beneficiaries proven before
they are recognised; caller IDs re-read with libphonenumber.

Revision ID: 0005_identity_throttle
Revises: 0003_operators
Create Date: 2026-12-01

The per-account lockout columns go: a lock per account let anyone who knew a number keep
its holder out, and told them the account existed. Existing beneficiaries were recognised
before this revision, so they are taken as confirmed when they were created. Caller IDs
stored by the old hand-written normaliser are rewritten in the canonical form; should two
active numbers become one, the later registration is removed (the earlier holder keeps it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.errors import InvalidCallerId

revision: str = "0005_identity_throttle"
down_revision: str | None = "0004_staff_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONFIRMED_ACTIVE = "removed_at IS NULL AND confirmed_at IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "sign_in_counters",
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("strikes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", "scope", "key", name=op.f("pk_sign_in_counters")),
    )
    with op.batch_alter_table("accounts") as batch:
        for column in (
            "pin_failed_attempts",
            "pin_locked_until",
            "web_failed_attempts",
            "web_locked_until",
        ):
            batch.drop_column(column)
    op.add_column(
        "beneficiaries", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE beneficiaries SET confirmed_at = created_at")
    op.drop_index("ix_beneficiaries_active_caller_id", table_name="beneficiaries")
    _renormalise_caller_ids()
    op.create_index(
        "ix_beneficiaries_active_caller_id",
        "beneficiaries",
        ["caller_id"],
        unique=True,
        sqlite_where=sa.text(_CONFIRMED_ACTIVE),
        postgresql_where=sa.text(_CONFIRMED_ACTIVE),
    )


def _renormalise_caller_ids() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, caller_id FROM beneficiaries WHERE removed_at IS NULL ORDER BY id")
    ).all()
    taken: set[str] = set()
    for row_id, stored in rows:
        try:
            canonical = normalise_caller_id(stored)
        except InvalidCallerId:
            canonical = stored
        if canonical in taken:
            connection.execute(
                sa.text("UPDATE beneficiaries SET removed_at = CURRENT_TIMESTAMP WHERE id = :id"),
                {"id": row_id},
            )
            continue
        taken.add(canonical)
        if canonical != stored:
            connection.execute(
                sa.text("UPDATE beneficiaries SET caller_id = :caller_id WHERE id = :id"),
                {"caller_id": canonical, "id": row_id},
            )


def downgrade() -> None:
    op.drop_index("ix_beneficiaries_active_caller_id", table_name="beneficiaries")
    op.execute("UPDATE beneficiaries SET removed_at = created_at WHERE confirmed_at IS NULL")
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_column("confirmed_at")
    op.create_index(
        "ix_beneficiaries_active_caller_id",
        "beneficiaries",
        ["caller_id"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column(
                "pin_failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
        batch.add_column(sa.Column("pin_locked_until", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column(
                "web_failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
        batch.add_column(sa.Column("web_locked_until", sa.DateTime(timezone=True)))
    op.drop_table("sign_in_counters")
