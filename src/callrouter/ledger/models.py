"""Tables of the ledger: movements, recharge codes, incidents and their history.

seeds/000_0e15b6772b2a7f9e.txt: "Suivez les mouvements et le solde du compte". Movements are
append-only: nothing updates or deletes them. `accounts.balance` is a cache of their sum,
written in the same transaction as each movement (and proved by `callrouter ledger check`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

IDEMPOTENCY_KEY_LENGTH = 160
CALL_REFERENCE_LENGTH = 64


class Movement(Base):
    """One change of a balance. `amount` is signed: the balance is the sum of the amounts.

    `idempotency_key` is unique: the ledger derives it from what the movement is for (the
    opening request of an incident, the incident of a refund, the recharge code, the
    caller's key of a credit), so a replayed request finds it and changes nothing.
    """

    __tablename__ = "ledger_movements"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'credit' AND amount > 0) OR (kind = 'refund' AND amount > 0)"
            " OR (kind = 'debit' AND amount < 0) OR (kind = 'adjustment' AND amount <> 0)",
            name="amount_matches_kind",
        ),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_ledger_movements_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    recharge_code_id: Mapped[int | None] = mapped_column(ForeignKey("recharge_codes.id"))
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)


class RechargeCode(Base):
    """A one-time recharge code of a pack card. Only its SHA-256 is stored; `points` is the
    pack's value when the code was issued, so a later change of the catalogue does not
    change what a card already sold credits."""

    __tablename__ = "recharge_codes"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint(
            "(redeemed_at IS NULL) = (redeemed_by IS NULL)", name="redeemed_at_and_by_together"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pack_reference: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class Incident(Base):
    """A support case. It is debited once, when it opens, whatever the number of calls
    ("plusieurs appels sans cumul de coût"), and refunded at most once (`refunded_at`)."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("debited >= 0", name="debited_not_negative"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    chosen_pass: Mapped[str] = mapped_column(String(16))
    third_party: Mapped[bool] = mapped_column(Boolean)
    emergency: Mapped[bool] = mapped_column(Boolean)
    classification: Mapped[str] = mapped_column(String(20))
    #: Points of the price list at opening; NULL when the service is on quote.
    price: Mapped[int | None] = mapped_column(Integer)
    debited: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    opening_call: Mapped[str | None] = mapped_column(String(CALL_REFERENCE_LENGTH))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    open_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    #: SHA-256 of the opening request (callrouter.ledger.opening): the same key again must
    #: carry the same request. NULL for incidents opened before it was kept (revision 0006).
    open_fingerprint: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentEvent(Base):
    """What happened to an incident after it opened: further calls, reclassification,
    refund. `idempotency_key` (unique when set) is the key of the request that did it."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text)
    call: Mapped[str | None] = mapped_column(String(CALL_REFERENCE_LENGTH))
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)


class Hold(Base):
    """Points set aside for an emergency call until a technician confirms it (`posted`:
    the incident opens and the movement is written) or the caller leaves unserved
    (`voided`). Held points are not movements: `accounts.held` is the sum of the pending
    holds. One hold per call (`call`, the caller's channel Uniqueid), so replays of the
    routing, the confirmation or the hang-up change nothing."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('pending', 'posted', 'voided')", name="state_known"),
        CheckConstraint("(state = 'pending') = (resolved_at IS NULL)", name="resolved_when_done"),
        CheckConstraint(
            "(state = 'posted') = (incident_id IS NOT NULL)", name="posted_with_incident"
        ),
        Index("ix_ledger_holds_state_placed_at", "state", "placed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    call: Mapped[str] = mapped_column(String(CALL_REFERENCE_LENGTH), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it was posted or voided (technician's confirmation, hang-up, restart...).
    outcome: Mapped[str] = mapped_column(Text, default="", server_default="")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
