"""Tables of Pass RDV appointments.

An appointment is booked with its incident (debited at the Pass RDV price) and one reserved
expert, in one transaction. The reservation is a row per quarter hour of the slot in
`appointment_quarters`, whose primary key (expert, quarter) is what makes double booking
impossible whatever the concurrency: two bookings that would give one expert overlapping
time cannot both commit. Cancelling deletes those rows, freeing the expert.

`state` is where the call at the slot stands: booked, cancelled, then (the dialling
machinery of the callbacks) dialling, met or broken.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime
from callrouter.experts.models import DOMAIN_KEY_MAX_LENGTH
from callrouter.ledger.models import IDEMPOTENCY_KEY_LENGTH

NUMBER_MAX_LENGTH = 32
BOOKED_BY_MAX_LENGTH = 200


class AppointmentState(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    DIALLING = "dialling"
    MET = "met"
    BROKEN = "broken"


_STATES = ", ".join(f"'{state.value}'" for state in AppointmentState)


class AppointmentRow(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES})", name="known_state"),
        CheckConstraint("slot_end > slot_start", name="ends_after_start"),
        Index("ix_appointments_slot_start", "slot_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    domain: Mapped[str] = mapped_column(String(DOMAIN_KEY_MAX_LENGTH))
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime())
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The number the expert's call goes to, national form (0612345678).
    number_to_call: Mapped[str] = mapped_column(String(NUMBER_MAX_LENGTH))
    summary: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    third_party: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    booking_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    booked_by: Mapped[str] = mapped_column(String(BOOKED_BY_MAX_LENGTH))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Whether the cancellation refunded the incident (in time) or not (too late).
    cancel_refunded: Mapped[bool | None] = mapped_column(Boolean)


class AppointmentQuarterRow(Base):
    """One quarter hour of an expert's time, reserved for one appointment."""

    __tablename__ = "appointment_quarters"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), primary_key=True)
    quarter_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
