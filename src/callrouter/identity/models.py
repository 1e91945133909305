"""Tables of the points account and its beneficiaries (seeds/000_0e15b6772b2a7f9e.txt:
"les codes d'accès personnels (web et assistance téléphonique)", "Créez ou supprimez des
ayants-droit")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callrouter.db.base import Base
from callrouter.db.types import UTCDateTime

ACCOUNT_NUMBER_LENGTH = 8


class Account(Base):
    """A points account. `balance` is written by the ledger only, under a row lock.

    `held` is the sum of the account's pending holds (callrouter.ledger.holds), written
    under the same lock: what can be spent is `balance - held`, never below zero.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("held >= 0 AND held <= balance", name="held_within_balance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(ACCOUNT_NUMBER_LENGTH), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    pin_hash: Mapped[str] = mapped_column(String(255))
    web_code_hash: Mapped[str] = mapped_column(String(255))
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    held: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    beneficiaries: Mapped[list[Beneficiary]] = relationship(
        back_populates="account", order_by="Beneficiary.id"
    )


_CONFIRMED_ACTIVE = "removed_at IS NULL AND confirmed_at IS NOT NULL"


class Beneficiary(Base):
    """Someone allowed to use an account, recognised by caller ID once the number is proven
    (`confirmed_at`): a holder may name any number, but it is recognised only after a call
    from that very number authenticated with the account's PIN, or a coordinator's word.
    Removal keeps the row."""

    __tablename__ = "beneficiaries"
    __table_args__ = (
        # One confirmed active beneficiary per caller ID: that is what makes caller-ID
        # recognition unambiguous. It is also the index of the routing hot path's lookup.
        # Pending numbers are not in it: naming a number claims nothing until it is proven.
        Index(
            "ix_beneficiaries_active_caller_id",
            "caller_id",
            unique=True,
            sqlite_where=text(_CONFIRMED_ACTIVE),
            postgresql_where=text(_CONFIRMED_ACTIVE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    caller_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="beneficiaries")


class SignInCounter(Base):
    """One throttle counter (identity/throttle.py): failures of a pair, a source, an account
    as typed, or the whole hotline, on one channel ("pin" or "web"). In the database, so
    that a restart or a second instance does not hand out fresh tries."""

    __tablename__ = "sign_in_counters"

    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    strikes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: Pairs only: when this source first succeeded on this account (it is then known).
    proven_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
