"""Tables of the 4-hour callbacks: the truth the dispatcher works from.

A callback is created with its incident, in the same transaction, and every attempt to
connect an expert with the customer is a row of its own, written (claimed) before the PBX
is asked to dial. The timers in memory (callrouter.callbacks.timers) only say when to look
again: whatever they hold, what happens is decided from these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

DOMAIN_LENGTH = 32
NUMBER_LENGTH = 32
EXPERT_NAME_LENGTH = 64
INTERFACE_LENGTH = 128

_OPEN_CALLBACK = "closed_at IS NULL"
_OPEN_ATTEMPT = "outcome IS NULL"


class Callback(Base):
    """A promise: an expert of `domain` calls `number` back before `due_at`.

    `closed_at` is set when nothing more is to be dialled (met, cancelled); a breached
    callback stays open until the caller is reached, and one given up (`close_reason`
    "gave-up": a person calls) stays open for its deadline. `open_attempt_id` is the
    attempt under way, if any: the claim checks and sets it on the locked row, so two
    dispatchers can never both start one.
    """

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint("customer_tries >= 0", name="customer_tries_not_negative"),
        CheckConstraint("retry_delay_s >= 0", name="retry_delay_not_negative"),
        # The dispatcher's sweeps (deadlines, warnings, ready callbacks) read open ones only.
        Index(
            "ix_callbacks_open_due_at",
            "due_at",
            postgresql_where=text(_OPEN_CALLBACK),
            sqlite_where=text(_OPEN_CALLBACK),
        ),
        Index(
            "ix_callbacks_open_not_before",
            "not_before",
            postgresql_where=text(_OPEN_CALLBACK),
            sqlite_where=text(_OPEN_CALLBACK),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Not dialled before this instant (a customer-side retry delay).
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    customer_tries: Mapped[int] = mapped_column(Integer, default=0)
    #: Experts who did not answer for it in the current round, one name per line.
    passed_over: Mapped[str] = mapped_column(Text, default="")
    open_attempt_id: Mapped[int | None] = mapped_column(Integer)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: met, cancelled, incident-refunded; gave-up while still open
    close_reason: Mapped[str | None] = mapped_column(String(24))
    #: The Pass RDV appointment this call is for (NULL: a Pass 4H callback). Its own
    #: settings below; NULL ones take the [callbacks] settings.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    #: The expert reserved for the slot: rung first when free.
    reserved_expert: Mapped[str | None] = mapped_column(String(EXPERT_NAME_LENGTH))
    #: When a supervisor is warned if nothing is under way (else `due_at - warn_before`).
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Customer did not answer: tried again this many seconds later (else the setting).
    retry_delay_s: Mapped[int | None] = mapped_column(Integer)


class CallbackAttempt(Base):
    """One try at connecting an expert with the customer, leg by leg.

    The partial unique index is the database's own guard: at most one attempt without an
    outcome per callback, whatever the code does.
    """

    __tablename__ = "callback_attempts"
    __table_args__ = (
        Index(
            "uq_callback_attempts_one_open",
            "callback_id",
            unique=True,
            postgresql_where=text(_OPEN_ATTEMPT),
            sqlite_where=text(_OPEN_ATTEMPT),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    expert: Mapped[str] = mapped_column(String(EXPERT_NAME_LENGTH))
    interface: Mapped[str] = mapped_column(String(INTERFACE_LENGTH))
    #: When it could have started at the earliest (lateness is measured from it).
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Which dispatcher claimed it (host and process).
    claimed_by: Mapped[str] = mapped_column(String(64))
    #: The PBX accepted the Originate; NULL if the process stopped before.
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expert_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customer_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(24))
    #: Why, when it is not the PBX's own outcome (placement refused, reconciled).
    note: Mapped[str] = mapped_column(Text, default="")
