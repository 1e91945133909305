"""What the ledger refuses, each with a message fit for the operator or the caller's agent."""

from __future__ import annotations

from datetime import datetime

from callrouter.errors import CallrouterError


class LedgerError(CallrouterError):
    """Base of the ledger's own errors."""


class InsufficientBalance(LedgerError):
    """The balance cannot pay the price: nothing was debited and no incident was opened."""

    def __init__(self, account_number: str, balance: int, price: int) -> None:
        super().__init__(
            f"account {account_number} has {balance} points, {price} are needed: "
            "the incident was not opened"
        )
        self.account_number = account_number
        self.balance = balance
        self.price = price


class UnknownIncident(LedgerError):
    def __init__(self, incident_id: int) -> None:
        super().__init__(f"no incident numbered {incident_id}")
        self.incident_id = incident_id


class IdempotencyKeyReused(LedgerError):
    """A key already served a different request: replaying it would return the wrong result."""

    def __init__(self, key: str, first_use: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for {first_use}")
        self.key = key


class InvalidRequest(LedgerError):
    """A request the ledger cannot act on as given (an empty or overlong key, no call)."""


class InvalidAmount(LedgerError):
    """A number of points that is zero, negative where it must be positive, or too large."""


class RechargeCodeError(LedgerError):
    """Base of what can go wrong when redeeming a recharge code."""


class UnknownRechargeCode(RechargeCodeError):
    def __init__(self) -> None:
        super().__init__("this recharge code does not exist: check it against the card")


class RechargeCodeExpired(RechargeCodeError):
    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"this recharge code expired on {expired_at:%Y-%m-%d %H:%M} UTC")
        self.expired_at = expired_at


class RechargeCodeAlreadyRedeemed(RechargeCodeError):
    def __init__(self, redeemed_at: datetime) -> None:
        super().__init__(f"this recharge code was already used on {redeemed_at:%Y-%m-%d %H:%M} UTC")
        self.redeemed_at = redeemed_at
