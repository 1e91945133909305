"""An appointment's call at its slot rides the callbacks' dispatcher (Pass RDV).

`callbacks.appointment_id` ties a callback row to its appointment (one each); the row
carries what differs from a Pass 4H callback: the expert reserved for the slot, when a
supervisor is warned (slot start + 5 min, not "before the deadline") and the customer-side
retry delay (5 min). All NULL for Pass 4H callbacks, which keep the [callbacks] settings.

Revision ID: 0015_appointment_calls
Revises: 0013_oncall_escalations
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_appointment_calls"
down_revision: str | None = "0013_oncall_escalations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("appointment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reserved_expert", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("retry_delay_s", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_callbacks_appointment_id_appointments"),
            "appointments",
            ["appointment_id"],
            ["id"],
        )
        batch.create_unique_constraint(batch.f("uq_callbacks_appointment_id"), ["appointment_id"])
        batch.create_check_constraint(
            batch.f("ck_callbacks_retry_delay_not_negative"), "retry_delay_s >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_constraint(batch.f("ck_callbacks_retry_delay_not_negative"), type_="check")
        batch.drop_constraint(batch.f("uq_callbacks_appointment_id"), type_="unique")
        batch.drop_constraint(
            batch.f("fk_callbacks_appointment_id_appointments"), type_="foreignkey"
        )
        batch.drop_column("retry_delay_s")
        batch.drop_column("warn_at")
        batch.drop_column("reserved_expert")
        batch.drop_column("appointment_id")
