"""The JSON shapes of the account API, one function per resource (see the OpenAPI schemas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from callrouter.accounts.queries import IncidentEntry, MovementEntry
from callrouter.identity.service import AccountSummary, BeneficiaryView
from callrouter.ledger.prices import OnQuote, Price
from callrouter.ledger.service import IncidentView

Json = dict[str, Any]


def instant(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, the form the API also accepts back in queries."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def optional_instant(value: datetime | None) -> str | None:
    return None if value is None else instant(value)


def account(summary: AccountSummary) -> Json:
    return {"number": summary.number, "holder": summary.holder_name, "balance": summary.balance}


def staff_account(summary: AccountSummary, beneficiaries: list[BeneficiaryView]) -> Json:
    """What a coordinator sees: the holder's view, plus who may call on it."""
    return account(summary) | {
        "created_at": instant(summary.created_at),
        "beneficiaries": [beneficiary(item) for item in beneficiaries],
    }


def beneficiary(view: BeneficiaryView) -> Json:
    return {
        "name": view.name,
        "caller_id": view.caller_id,
        "added_at": instant(view.created_at),
        "removed_at": optional_instant(view.removed_at),
        "confirmed_at": optional_instant(view.confirmed_at),
    }


def price(value: Price) -> int | None:
    """Points of the price list; null when the service is on quote."""
    return None if isinstance(value, OnQuote) else value


def movement(entry: MovementEntry) -> Json:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "at": instant(entry.created_at),
        "reason": entry.reason,
        "reference": entry.reference,
        "incident_id": entry.incident_id,
    }


def incident_entry(entry: IncidentEntry | IncidentView) -> Json:
    return {
        "id": entry.id,
        "level": entry.level.value,
        "pass": entry.chosen_pass.value,
        "third_party": entry.third_party,
        "emergency": entry.emergency,
        "classification": entry.classification.value,
        "price": price(entry.price),
        "debited": entry.debited,
        "summary": entry.summary,
        "opened_at": instant(entry.opened_at),
        "refunded_at": optional_instant(entry.refunded_at),
    }


def incident(view: IncidentView) -> Json:
    """An incident with its history (further calls, reclassification, refund)."""
    return incident_entry(view) | {
        "account_number": view.account_number,
        "opening_call": view.opening_call,
        "history": [
            {
                "kind": event.kind.value,
                "at": instant(event.at),
                "detail": event.detail,
                "call": event.call,
            }
            for event in view.events
        ],
    }
