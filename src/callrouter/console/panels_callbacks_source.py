"""The 4H callbacks panel's reading, from the callbacks' and the ledger's tables (read
only): the callbacks still owed, earliest deadline first, and today's outcomes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.callbacks.store import CALLBACKS, CANCELLED_BY_REFUND, PASS_4H
from callrouter.console.panels_callbacks import CallbacksReading, CallbacksSource, OwedCallback
from callrouter.ledger.tables import INCIDENTS, MOVEMENTS

#: Callbacks listed (the earliest deadlines: the ones that matter first).
SHOWN = 50

_C = CALLBACKS.c
#: Not connected, not closed, not cancelled by a refund for another reason (Pass 4H only:
#: appointments' calls have their own panel).
_OWED = and_(PASS_4H, _C.connected_at.is_(None), _C.closed_at.is_(None), not_(CANCELLED_BY_REFUND))


def callbacks_source(engine: AsyncEngine) -> CallbacksSource:
    async def read(since: datetime) -> CallbacksReading:
        owed_query = (
            select(_C.id, _C.domain, _C.number, _C.due_at, _C.open_attempt_id)
            .join_from(CALLBACKS, INCIDENTS, _C.incident_id == INCIDENTS.c.id)
            .where(_OWED)
            .order_by(_C.due_at, _C.id)
            .limit(SHOWN)
        )
        met = select(func.count()).where(
            PASS_4H, _C.connected_at >= since, _C.connected_at < _C.due_at
        )
        breached = select(func.count()).where(PASS_4H, _C.breached_at >= since)
        refunded = select(func.coalesce(func.sum(MOVEMENTS.c.amount), 0)).where(
            MOVEMENTS.c.kind == "refund",
            MOVEMENTS.c.created_at >= since,
            MOVEMENTS.c.incident_id.in_(
                select(_C.incident_id).where(PASS_4H, _C.breached_at.is_not(None))
            ),
        )
        async with engine.connect() as connection:
            rows = (await connection.execute(owed_query)).all()
            met_today = (await connection.execute(met)).scalar_one()
            breached_today = (await connection.execute(breached)).scalar_one()
            points = (await connection.execute(refunded)).scalar_one()
        return CallbacksReading(
            owed=tuple(
                OwedCallback(
                    row.id, row.domain, row.number, row.due_at, row.open_attempt_id is not None
                )
                for row in rows
            ),
            met_today=int(met_today),
            breached_today=int(breached_today),
            refunded_points_today=int(points),
        )

    return read
