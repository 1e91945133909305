"""Ledger movements for the metrics, read from the database off the callers' path.

The ledger is append-only, so counting its debit and refund movements gives true counters;
a periodic task reads them (one grouped query) rather than hooking the ledger's writes.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.ledger.models import Movement
from callrouter.metrics.registry import LedgerTotals


async def read_ledger_totals(database: async_sessionmaker[AsyncSession]) -> LedgerTotals:
    async with database() as session:
        rows = (
            await session.execute(
                select(Movement.kind, func.count(), func.coalesce(func.sum(Movement.amount), 0))
                .where(Movement.kind.in_(("debit", "refund")))
                .group_by(Movement.kind)
            )
        ).all()
    totals = LedgerTotals()
    for kind, count, amount in rows:
        if kind == "debit":
            totals.debits, totals.debited_points = int(count), -int(amount)
        else:
            totals.refunds, totals.refunded_points = int(count), int(amount)
    return totals
