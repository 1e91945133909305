"""Opening an incident, the part without I/O: what the movement says, what comes back.

Shared by the portable path (callrouter.ledger.incidents) and the PostgreSQL one
(callrouter.ledger.postgres), which must write the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrouter.ledger.models import CALL_REFERENCE_LENGTH
from callrouter.ledger.prices import AssistanceLevel, Points, Price
from callrouter.passes import Pass


@dataclass(frozen=True)
class OpenedIncident:
    """`price` is what the list says; `debited` what left the account (0 for a quote);
    `balance` the balance right after. `replayed`: an earlier request with the same key had
    already opened it, and these are its figures."""

    incident_id: int
    account_number: str
    price: Price
    debited: Points
    balance: Points
    replayed: bool


def call_reference(call: str | None) -> str | None:
    if call is None or not call.strip():
        return None
    return call.strip()[:CALL_REFERENCE_LENGTH]


def describe(level: AssistanceLevel, pass_: Pass, third_party: bool, emergency: bool) -> str:
    parts = ["emergency" if emergency else f"{level.value} assistance", f"pass {pass_.value}"]
    if third_party and not emergency:
        parts.append("third-party product")
    return ", ".join(parts)
