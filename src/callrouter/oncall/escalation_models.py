"""Tables of the escalations: each emergency as it stands (an `unanswered` one is owed a
callback) and every step of it, as tracking.py saw them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime
from callrouter.oncall.models import LAYER_MAX_LENGTH, PERSON_NAME_MAX_LENGTH

UNIQUEID_MAX_LENGTH = 64
CALLER_ID_MAX_LENGTH = 40
CHANNEL_MAX_LENGTH = 120
STATE_MAX_LENGTH = 16


class OnCallEscalation(Base):
    __tablename__ = "oncall_escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller_uniqueid: Mapped[str] = mapped_column(String(UNIQUEID_MAX_LENGTH), unique=True)
    caller_id: Mapped[str] = mapped_column(String(CALLER_ID_MAX_LENGTH))
    channel: Mapped[str] = mapped_column(String(CHANNEL_MAX_LENGTH))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(STATE_MAX_LENGTH), index=True)
    layer: Mapped[str] = mapped_column(String(LAYER_MAX_LENGTH))
    pass_number: Mapped[int] = mapped_column(Integer)
    # a member name or interface, as the PBX reported it
    technician: Mapped[str | None] = mapped_column(String(PERSON_NAME_MAX_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OnCallEscalationStep(Base):
    __tablename__ = "oncall_escalation_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller_uniqueid: Mapped[str] = mapped_column(String(UNIQUEID_MAX_LENGTH), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(STATE_MAX_LENGTH))
    layer: Mapped[str] = mapped_column(String(LAYER_MAX_LENGTH))
    pass_number: Mapped[int] = mapped_column(Integer)
    technician: Mapped[str | None] = mapped_column(String(PERSON_NAME_MAX_LENGTH))
    waited_seconds: Mapped[float] = mapped_column(Float)
