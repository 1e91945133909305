"""Refunds: an incident's points back in full, once, whatever the reason.

seeds/000_0e15b6772b2a7f9e.txt: an incident classified non-attributable is refunded in full
("Offert"); a broken promise (a late callback, a missed appointment) refunds it too. Every
refund of an incident, whichever use case asks, goes through `refund_within`, inside that
use case's own transaction: the incident is refunded at most once (`refunded_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.ledger.context import LedgerContext
from callrouter.ledger.errors import UnknownIncident
from callrouter.ledger.idempotency import check_key, idempotent_checked
from callrouter.ledger.incident_events import (
    IncidentEventKind,
    event_by_key,
    incident_account,
    same_incident,
    write_event,
)
from callrouter.ledger.postings import LOCK_ACCOUNT_BY_ID, MovementKind, write_movement
from callrouter.ledger.prices import Classification, Points
from callrouter.ledger.tables import ACCOUNTS, INCIDENTS, LedgerRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Refund:
    """An incident's refund. `replayed`: it had already been refunded (by this request or
    another one) and nothing moved this time."""

    incident_id: int
    account_number: str
    points: Points
    refunded_at: datetime
    replayed: bool


class Refunds:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    async def refund_incident(self, incident_id: int, reason: str, idempotency_key: str) -> Refund:
        """Refund the points the incident cost, in full, once per incident whatever the
        reason (a broken guarantee, a reclassification): a second refund returns the first
        one and moves nothing."""
        check_key(idempotency_key)
        context = self._context

        async def replay() -> Refund | None:
            return await self._replayed(incident_id, idempotency_key)

        async def work() -> Refund:
            async with context.sessions.begin() as session:
                connection = await session.connection()
                return await refund_within(
                    connection, incident_id, reason, idempotency_key, context.clock.now()
                )

        return await idempotent_checked(work, replay)

    async def reclassify_non_attributable(
        self, incident_id: int, reason: str, idempotency_key: str
    ) -> Refund:
        """Classify the incident non-attributable ("Assistance non imputable: Offert") and
        refund it in full, unless it was refunded already. Doing it again moves nothing."""
        check_key(idempotency_key)
        context = self._context

        async def replay() -> Refund | None:
            return await self._replayed(incident_id, idempotency_key)

        async def work() -> Refund:
            async with context.sessions.begin() as session:
                connection = await session.connection()
                incident, _ = await lock_incident(connection, incident_id)
                now = context.clock.now()
                if incident.classification == Classification.NON_ATTRIBUTABLE:
                    refund = await _existing_refund(connection, incident_id)
                    if refund is not None:
                        return refund
                else:
                    await connection.execute(
                        update(INCIDENTS)
                        .where(INCIDENTS.c.id == incident_id)
                        .values(classification=Classification.NON_ATTRIBUTABLE.value)
                    )
                    await write_event(
                        connection,
                        incident_id,
                        IncidentEventKind.RECLASSIFIED,
                        at=now,
                        detail=f"{incident.classification} -> non-attributable: {reason}",
                        key=idempotency_key,
                    )
                return await refund_within(
                    connection, incident_id, f"non-attributable: {reason}", None, now
                )

        return await idempotent_checked(work, replay)

    async def _replayed(self, incident_id: int, idempotency_key: str) -> Refund | None:
        """The refund an earlier request with this key led to, if there was one."""
        async with self._context.sessions() as session:
            connection = await session.connection()
            event = await event_by_key(connection, idempotency_key)
            if event is None:
                return None
            same_incident(event, incident_id, idempotency_key)
            return await _existing_refund(connection, incident_id)


async def refund_within(
    connection: AsyncConnection, incident_id: int, reason: str, key: str | None, now: datetime
) -> Refund:
    """Refund the incident in the caller's transaction, unless it was refunded already.
    `key` is the idempotency key of the request, kept on the refund's event (None when
    the request's own event already carries it)."""
    incident, account = await lock_incident(connection, incident_id)
    if incident.refunded_at is not None:
        return Refund(incident_id, account.number, incident.debited, incident.refunded_at, True)
    if incident.debited:
        await write_movement(
            connection,
            account_id=incident.account_id,
            kind=MovementKind.REFUND,
            amount=incident.debited,
            balance=account.balance + incident.debited,
            at=now,
            reason=reason,
            reference=f"incident {incident_id}",
            incident_id=incident_id,
            key=f"incident-refund:{incident_id}",
        )
    await connection.execute(
        update(INCIDENTS).where(INCIDENTS.c.id == incident_id).values(refunded_at=now)
    )
    await write_event(
        connection,
        incident_id,
        IncidentEventKind.REFUNDED,
        at=now,
        detail=f"{incident.debited} points refunded: {reason}",
        key=key,
    )
    log.info(
        "ledger.incident_refunded",
        incident=incident_id,
        account=account.number,
        points=incident.debited,
        reason=reason,
    )
    return Refund(incident_id, account.number, incident.debited, now, replayed=False)


async def lock_incident(
    connection: AsyncConnection, incident_id: int
) -> tuple[LedgerRow, LedgerRow]:
    """The incident and its account (number, balance), read after locking the account: every
    change of that account and its incidents waits for us, and we see the last one's result."""
    account_id = await incident_account(connection, incident_id)
    if account_id is None:
        raise UnknownIncident(incident_id)
    account = (await connection.execute(LOCK_ACCOUNT_BY_ID, {"account_id": account_id})).one()
    incident = (
        await connection.execute(select(INCIDENTS).where(INCIDENTS.c.id == incident_id))
    ).one()
    return incident, account


async def _existing_refund(connection: AsyncConnection, incident_id: int) -> Refund | None:
    row = (
        await connection.execute(
            select(INCIDENTS.c.debited, INCIDENTS.c.refunded_at, ACCOUNTS.c.number)
            .join_from(INCIDENTS, ACCOUNTS, INCIDENTS.c.account_id == ACCOUNTS.c.id)
            .where(INCIDENTS.c.id == incident_id)
        )
    ).first()
    if row is None:
        raise UnknownIncident(incident_id)
    if row.refunded_at is None:
        return None
    return Refund(incident_id, row.number, row.debited, row.refunded_at, replayed=True)
