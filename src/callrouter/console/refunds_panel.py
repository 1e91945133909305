"""Refunds paid today: the promises the hotline broke (or reclassified) and paid back.

The ledger is in the database, so this panel keeps what its poller last read (every
`POLL_SECONDS`, off the callers' path) and its snapshot reads only that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.console.panel import Labels, PanelView
from callrouter.http.access import mask_account_numbers, mask_numbers_in
from callrouter.ledger.models import Movement

log = structlog.get_logger(__name__)

LEDGER = "ledger"
POLL_SECONDS = 15.0
#: Refunds listed (the totals count them all).
SHOWN = 10


@dataclass(frozen=True)
class RefundLine:
    at: datetime
    points: int
    incident: int | None
    reason: str


def start_of_day(now: datetime, timezone: ZoneInfo) -> datetime:
    """Midnight of `now`'s calendar day in the hotline's time zone."""
    return datetime.combine(now.astimezone(timezone).date(), time(0), tzinfo=timezone)


class RefundsPanel:
    key = "refunds"
    topics = frozenset({LEDGER})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.refunds": "Refunds paid today",
            "refunds.total": "{count} refunds, {points} points",
            "refunds.at": "Time",
            "refunds.points": "Points",
            "refunds.incident": "Incident",
            "refunds.reason": "Why",
            "refunds.none": "No refund today.",
        },
        "fr": {
            "panel.refunds": "Remboursements du jour",
            "refunds.total": "{count} remboursements, {points} points",
            "refunds.at": "Heure",
            "refunds.points": "Points",
            "refunds.incident": "Incident",
            "refunds.reason": "Motif",
            "refunds.none": "Aucun remboursement aujourd'hui.",
        },
    }

    def __init__(self) -> None:
        self.count = 0
        self.points = 0
        self.latest: list[RefundLine] = []
        self.read = False

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        if not self.read:
            return {"configured": True, "read": False, "count": 0, "points": 0, "refunds": []}
        seen = view.seen
        return {
            "configured": True,
            "read": True,
            "count": self.count,
            "points": self.points,
            "refunds": [
                {
                    "at": view.local(line.at),
                    "points": line.points,
                    "incident": line.incident,
                    "reason": line.reason
                    if seen.account_numbers
                    else mask_numbers_in(mask_account_numbers(line.reason)),
                }
                for line in self.latest
            ],
        }

    async def refresh(self, database: async_sessionmaker[AsyncSession], since: datetime) -> bool:
        """Read today's refunds; True when they changed."""
        refund = Movement.kind == "refund"
        async with database() as session:
            count, points = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(Movement.amount), 0)).where(
                        refund, Movement.created_at >= since
                    )
                )
            ).one()
            rows = (
                await session.execute(
                    select(
                        Movement.created_at, Movement.amount, Movement.incident_id, Movement.reason
                    )
                    .where(refund, Movement.created_at >= since)
                    .order_by(Movement.created_at.desc(), Movement.id.desc())
                    .limit(SHOWN)
                )
            ).all()
        latest = [RefundLine(at, amount, incident, reason) for at, amount, incident, reason in rows]
        changed = not self.read or (count, points, latest) != (self.count, self.points, self.latest)
        self.count, self.points, self.latest, self.read = int(count), int(points), latest, True
        return changed


async def follow_refunds(
    panel: RefundsPanel,
    database: async_sessionmaker[AsyncSession],
    clock: Clock,
    timezone: ZoneInfo,
    changed: Callable[[str], None],
) -> None:
    """The panel's poller (a task owned by the console's context)."""
    while True:
        try:
            if await panel.refresh(database, start_of_day(clock.now(), timezone)):
                changed(LEDGER)
        except Exception as error:
            # The database may be away for a while: the panel keeps its last reading.
            log.warning("console.refunds_unread", error=str(error))
        await asyncio.sleep(POLL_SECONDS)
