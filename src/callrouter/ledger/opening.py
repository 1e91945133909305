"""Opening an incident, the part without I/O: the request, its fingerprint, the result.

Shared by the portable path (callrouter.ledger.incidents) and the PostgreSQL one
(callrouter.ledger.postgres), which must write the same rows and judge replays the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from callrouter.ledger.errors import IdempotencyKeyReused
from callrouter.ledger.models import CALL_REFERENCE_LENGTH
from callrouter.ledger.prices import AssistanceLevel, Classification, Points, Price
from callrouter.passes import Pass


@dataclass(frozen=True)
class OpeningRequest:
    """What a client asks for when it opens an incident, as the ledger keeps it."""

    account_number: str
    level: AssistanceLevel
    pass_: Pass
    third_party: bool
    emergency: bool
    classification: Classification
    summary: str
    #: The call's reference, trimmed to what is stored (see `call_reference`).
    call: str | None

    @property
    def fingerprint(self) -> str:
        """Stored with the idempotency key: the same key again must ask for the same
        incident, or replaying the first one would bill a service nobody asked for. It
        covers what makes the incident and its price; the summary and the call are notes
        on it, and a replay that only words them differently gets the first incident."""
        canonical = json.dumps(
            [
                self.account_number,
                self.level.value,
                self.pass_.value,
                self.third_party,
                self.emergency,
                self.classification.value,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def description(self) -> str:
        parts = [
            "emergency" if self.emergency else f"{self.level.value} assistance",
            f"pass {self.pass_.value}",
        ]
        if self.third_party and not self.emergency:
            parts.append("third-party product")
        return ", ".join(parts)


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


def check_replay(
    key: str,
    request: OpeningRequest,
    *,
    incident_id: int,
    account_number: str,
    fingerprint: str | None,
) -> None:
    """An incident found under the request's key may be replayed only to the same request.

    `fingerprint` is None for incidents opened before fingerprints were stored (revision
    0006): those are compared by account only, as they were then.
    """
    if account_number != request.account_number:
        raise IdempotencyKeyReused(key, f"incident {incident_id} of another account")
    if fingerprint is not None and fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(
            key,
            f"incident {incident_id}, opened by a different request (level, pass, "
            "third party, emergency or classification): use a new key",
        )


def call_reference(call: str | None) -> str | None:
    if call is None or not call.strip():
        return None
    return call.strip()[:CALL_REFERENCE_LENGTH]
