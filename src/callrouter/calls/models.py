"""The call_records table: what the router decided for each announced call, and how fast."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime


class CallRecord(Base):
    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(128))
    uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    caller_id: Mapped[str] = mapped_column(String(64))
    # Not a foreign key: a record keeps what was decided even for numbers that were
    # mistyped or accounts that no longer exist.
    account_number: Mapped[str | None] = mapped_column(String(16))
    caller_status: Mapped[str] = mapped_column(String(16))
    chosen_pass: Mapped[str | None] = mapped_column(String(16))
    window: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(32))
    queue_priority: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    failsafe: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Whether the Redirect took effect; `error` says why not.
    redirected: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    error: Mapped[str | None] = mapped_column(Text)
    #: Set when the record was written or corrected from the PBX's state after a
    #: (re)connection rather than when the decision was made.
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
