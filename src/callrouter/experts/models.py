"""Tables of the experts: who they are, which domains they cover, when they are away.

An expert removed from the directory keeps their row (`removed_at`): appointments and
callback attempts still name them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

EXPERT_NAME_MAX_LENGTH = 200
INTERFACE_MAX_LENGTH = 120
DOMAIN_KEY_MAX_LENGTH = 32
WINDOW_NAME_MAX_LENGTH = 64
ABSENCE_REASON_MAX_LENGTH = 500


class ExpertRow(Base):
    __tablename__ = "experts"
    __table_args__ = (
        # One active expert per name and per phone: "expert absent NAME" is unambiguous, and
        # one PBX interface is one person.
        Index(
            "ix_experts_active_name",
            "name",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index(
            "ix_experts_active_interface",
            "interface",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(EXPERT_NAME_MAX_LENGTH))
    interface: Mapped[str] = mapped_column(String(INTERFACE_MAX_LENGTH))
    #: The calendar window of their working hours (e.g. "coordinators").
    hours: Mapped[str] = mapped_column(String(WINDOW_NAME_MAX_LENGTH))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExpertDomainRow(Base):
    __tablename__ = "expert_domains"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(DOMAIN_KEY_MAX_LENGTH), primary_key=True, index=True)


class ExpertAbsenceRow(Base):
    __tablename__ = "expert_absences"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
