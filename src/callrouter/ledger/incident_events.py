"""An incident's history after it opened: further calls, reclassification, refund.

An event written by a request carries that request's idempotency key, so the request
replayed finds it instead of acting twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.ledger.errors import IdempotencyKeyReused
from callrouter.ledger.tables import EVENTS, INCIDENTS, LedgerRow


class IncidentEventKind(enum.StrEnum):
    CALL = "call"
    RECLASSIFIED = "reclassified"
    REFUNDED = "refunded"


async def write_event(
    connection: AsyncConnection,
    incident_id: int,
    kind: IncidentEventKind,
    *,
    at: datetime,
    detail: str,
    call: str | None = None,
    key: str | None,
) -> None:
    await connection.execute(
        insert(EVENTS).values(
            incident_id=incident_id,
            kind=kind.value,
            at=at,
            detail=detail,
            call=call,
            idempotency_key=key,
        )
    )


async def event_by_key(connection: AsyncConnection, key: str) -> LedgerRow | None:
    return (await connection.execute(select(EVENTS).where(EVENTS.c.idempotency_key == key))).first()


def same_incident(event: LedgerRow, incident_id: int, key: str) -> None:
    """The event found by `key` must be about this incident, or the key served another."""
    if event.incident_id != incident_id:
        raise IdempotencyKeyReused(key, f"incident {event.incident_id}")


async def incident_account(connection: AsyncConnection, incident_id: int) -> int | None:
    """The account of the incident, or None when there is no such incident."""
    account_id: int | None = await connection.scalar(
        select(INCIDENTS.c.account_id).where(INCIDENTS.c.id == incident_id)
    )
    return account_id
