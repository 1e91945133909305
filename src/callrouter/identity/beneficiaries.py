"""Beneficiaries as the service shows them, and the conditions that find them.

A beneficiary is active until removed, and recognised by caller ID only once confirmed
(identity/models.py says how a number is proven).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement

from callrouter.identity.errors import BeneficiaryExists
from callrouter.identity.models import Beneficiary


@dataclass(frozen=True)
class BeneficiaryView:
    account_number: str
    name: str
    caller_id: str
    created_at: datetime
    removed_at: datetime | None
    #: None while the number is not proven: it is not recognised by caller ID until then.
    confirmed_at: datetime | None


def active(caller_id: str) -> tuple[ColumnElement[bool], ...]:
    return (Beneficiary.caller_id == caller_id, Beneficiary.removed_at.is_(None))


def confirmed() -> tuple[ColumnElement[bool], ...]:
    return (Beneficiary.confirmed_at.is_not(None),)


def elsewhere(caller_id: str) -> BeneficiaryExists:
    """Staff only: a holder's naming never checks other accounts."""
    return BeneficiaryExists(f"caller id {caller_id} is already confirmed on another account")


def view(account_number: str, beneficiary: Beneficiary) -> BeneficiaryView:
    return BeneficiaryView(
        account_number=account_number,
        name=beneficiary.name,
        caller_id=beneficiary.caller_id,
        created_at=beneficiary.created_at,
        removed_at=beneficiary.removed_at,
        confirmed_at=beneficiary.confirmed_at,
    )
