"""Pass RDV appointments, and the quarter hours of experts they reserve.

The primary key (expert_id, quarter_start) of appointment_quarters is the guarantee that no
expert is booked twice for overlapping time, whatever the concurrency.

Revision ID: 0011_appointments
Revises: 0009_experts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_appointments"
down_revision: str | None = "0009_experts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("number_to_call", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("third_party", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("booking_key", sa.String(length=160), nullable=False),
        sa.Column("booked_by", sa.String(length=200), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_refunded", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "state IN ('booked', 'cancelled', 'dialling', 'met', 'broken')",
            name=op.f("ck_appointments_known_state"),
        ),
        sa.CheckConstraint("slot_end > slot_start", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_appointments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_appointments_expert_id_experts")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_appointments_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("booking_key", name=op.f("uq_appointments_booking_key")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_appointments_incident_id")),
    )
    op.create_index(op.f("ix_appointments_account_id"), "appointments", ["account_id"])
    op.create_index(op.f("ix_appointments_expert_id"), "appointments", ["expert_id"])
    op.create_index("ix_appointments_slot_start", "appointments", ["slot_start"])
    op.create_table(
        "appointment_quarters",
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("quarter_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_quarters_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["experts.id"], name=op.f("fk_appointment_quarters_expert_id_experts")
        ),
        sa.PrimaryKeyConstraint("expert_id", "quarter_start", name=op.f("pk_appointment_quarters")),
    )
    op.create_index(
        op.f("ix_appointment_quarters_appointment_id"), "appointment_quarters", ["appointment_id"]
    )


def downgrade() -> None:
    op.drop_table("appointment_quarters")
    op.drop_table("appointments")
