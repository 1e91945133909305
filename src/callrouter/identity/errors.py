"""What can go wrong when managing accounts, beneficiaries and sign-ins."""

from __future__ import annotations

from datetime import datetime

from callrouter.errors import CallrouterError


class IdentityError(CallrouterError):
    """Base of the identity errors; each message is fit to show to the person acting."""


class AccountNotFound(IdentityError):
    def __init__(self, number: str) -> None:
        super().__init__(f"no account numbered {number!r}")
        self.number = number


class InvalidName(IdentityError):
    """A holder or beneficiary name that is empty or too long."""


class InvalidCode(IdentityError):
    """A PIN or web access code that does not have the required form."""


class InvalidCallerId(IdentityError):
    def __init__(self, raw: str, why: str) -> None:
        super().__init__(f"invalid caller id {raw!r}: {why}")
        self.raw = raw


class BeneficiaryExists(IdentityError):
    """The caller id is already a beneficiary of this account, or (to staff only) a
    confirmed beneficiary of another one."""


class BeneficiaryNotFound(IdentityError):
    def __init__(self, account_number: str, caller_id: str) -> None:
        super().__init__(
            f"account {account_number} has no active beneficiary with caller id {caller_id}"
        )
        self.account_number = account_number
        self.caller_id = caller_id


class InvalidCredentials(IdentityError):
    """Wrong account number or wrong code; deliberately does not say which."""

    def __init__(self) -> None:
        super().__init__("wrong account number or access code")


class SignInLocked(IdentityError):
    """Too many failures from this client: the same answer whether the account exists or
    not (the throttle counts invented numbers like real ones)."""

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(
            f"too many failed attempts from here: try again after {locked_until:%Y-%m-%d %H:%M} UTC"
        )
        self.locked_until = locked_until


class NoFreeAccountNumber(IdentityError):
    """Account numbers are drawn at random; this means the draws kept colliding."""
