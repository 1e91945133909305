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
    """A points account. `balance` is written by the ledger only, under a row lock."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(ACCOUNT_NUMBER_LENGTH), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    pin_hash: Mapped[str] = mapped_column(String(255))
    web_code_hash: Mapped[str] = mapped_column(String(255))
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pin_failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    web_failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    web_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    beneficiaries: Mapped[list[Beneficiary]] = relationship(
        back_populates="account", order_by="Beneficiary.id"
    )


class Beneficiary(Base):
    """Someone allowed to use an account, recognised by caller ID. Removal keeps the row."""

    __tablename__ = "beneficiaries"
    __table_args__ = (
        # One active beneficiary per caller ID: that is what makes caller-ID recognition
        # unambiguous. It is also the index of the routing hot path's lookup.
        Index(
            "ix_beneficiaries_active_caller_id",
            "caller_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    caller_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="beneficiaries")
