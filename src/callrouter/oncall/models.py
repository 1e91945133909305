"""Tables of the on-call roster: the technicians, one rotation per layer with its people in
turn order, and the overrides. The rules that read them are in `roster.py`."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

PERSON_NAME_MAX_LENGTH = 200
CONTACT_MAX_LENGTH = 100
LAYER_MAX_LENGTH = 16


class OnCallPerson(Base):
    """A technician who can be on call. The iCalendar feed's token is stored as its SHA-256:
    a random 256-bit secret needs no slow hash, and the hash finds the row."""

    __tablename__ = "oncall_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(PERSON_NAME_MAX_LENGTH), unique=True)
    # A PBX interface (PJSIP/alice) or a phone number: what the PBX dials.
    contact: Mapped[str] = mapped_column(String(CONTACT_MAX_LENGTH))
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OnCallRotation(Base):
    """The rotation of one layer (primary, secondary, manager)."""

    __tablename__ = "oncall_rotations"
    __table_args__ = (CheckConstraint("shift_days >= 1", name="shift_at_least_a_day"),)

    layer: Mapped[str] = mapped_column(String(LAYER_MAX_LENGTH), primary_key=True)
    shift_days: Mapped[int] = mapped_column(Integer)
    # Local wall-clock time and date in the calendar's time zone.
    handoff_at: Mapped[time] = mapped_column(Time())
    first_handoff: Mapped[date] = mapped_column(Date())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OnCallRotationMember(Base):
    """One turn of a rotation: `position` 0 takes the shift starting at first_handoff."""

    __tablename__ = "oncall_rotation_members"

    layer: Mapped[str] = mapped_column(ForeignKey("oncall_rotations.layer"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id"), index=True)


class OnCallOverride(Base):
    """`by` replaces `replaces` from starts_at (included) to ends_at (excluded)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    replaces_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
