"""The dispatcher's timers in APScheduler 3.11: when to look at the tables again.

A timer holds no decision: whatever fires, the engine re-reads its tables. So timers are
kept in memory only (no job store: the issue's measurements show APScheduler's SQLAlchemy
store blocks the loop and fires shared jobs twice), for what falls due within the horizon,
and rebuilt from the tables at start-up and at every sweep, a chunk at a time so the event
loop never waits long. `misfire_grace_time=None` and coalescing: a timer that passed while
the loop was busy runs late, once, never skipped.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.callbacks import store
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.rules import warning_at
from callrouter.clock import Clock

log = structlog.get_logger(__name__)

#: Rows read and timers added between two yields to the event loop.
CHUNK = 500


def _scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )


class TimerKind(enum.StrEnum):
    ATTEMPT = "attempt"
    WARNING = "warning"
    DEADLINE = "deadline"


def timers_of(
    row: Any, config: CallbacksConfig, now: datetime, until: datetime
) -> list[tuple[TimerKind, datetime]]:
    """The instants after `now` and up to `until` when something may happen to an open
    callback: its retry may start, its warning or its deadline falls."""
    instants = [(TimerKind.ATTEMPT, row.not_before)]
    if row.warned_at is None:
        instants.append((TimerKind.WARNING, warning_at(row.due_at, config.policy)))
    if row.breached_at is None:
        instants.append((TimerKind.DEADLINE, row.due_at))
    return [(kind, at) for kind, at in instants if now < at <= until]


class CallbackTimers:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        config: CallbacksConfig,
        wake: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._config = config
        self._wake = wake
        self._scheduler = _scheduler()
        self._marked: set[int] = set()

    def start(self) -> None:
        """Start afresh (a dispatcher that lost the lead and took it back starts over)."""
        self.shutdown()
        self._scheduler = _scheduler()
        self._scheduler.start()
        self._scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self._config.sweep_interval.total_seconds() / self._speed(),
            id="sweep",
        )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            self._scheduler.remove_all_jobs()

    @property
    def count(self) -> int:
        return len(self._scheduler.get_jobs())

    def jobs(self) -> list[tuple[str, datetime]]:
        """(id, instant on the hotline's clock) of every callback timer."""
        return [
            (job.id, self._hotline_time(job.next_run_time))
            for job in self._scheduler.get_jobs()
            if job.id != "sweep"
        ]

    async def load(self) -> int:
        """Plan the timers of everything due within the horizon, from the tables."""
        now = self._clock.now()
        until = now + self._config.timer_horizon
        warned_until = until + self._config.policy.warn_before
        planned = 0
        for query in (store.timer_rows_due(warned_until), store.timer_rows_retrying(now, until)):
            planned += await self._plan_rows(query, now, until)
        return planned

    def mark(self, callback_id: int) -> None:
        """Its next instants may have changed: planned again at the next `plan_marked`."""
        self._marked.add(callback_id)

    async def plan_marked(self) -> None:
        if not self._marked:
            return
        marked, self._marked = sorted(self._marked), set()
        now = self._clock.now()
        until = now + self._config.timer_horizon
        for start in range(0, len(marked), CHUNK):
            chunk = marked[start : start + CHUNK]
            for kind in TimerKind:
                for callback_id in chunk:
                    self._remove(kind, callback_id)
            query = select(
                store.CALLBACKS.c.id,
                store.CALLBACKS.c.due_at,
                store.CALLBACKS.c.not_before,
                store.CALLBACKS.c.warned_at,
                store.CALLBACKS.c.breached_at,
            ).where(store.CALLBACKS.c.id.in_(chunk), store.CALLBACKS.c.closed_at.is_(None))
            await self._plan_rows(query, now, until)

    async def _plan_rows(self, query: Any, now: datetime, until: datetime) -> int:
        planned = 0
        async with self._engine.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=CHUNK))
            async for rows in result.partitions():
                for row in rows:
                    for kind, at in timers_of(row, self._config, now, until):
                        self._add(kind, row.id, at)
                        planned += 1
                # Let the loop breathe between chunks: calls keep being routed meanwhile.
                await asyncio.sleep(0)
        return planned

    def _add(self, kind: TimerKind, callback_id: int, at: datetime) -> None:
        self._scheduler.add_job(
            self._fired,
            "date",
            run_date=self._scheduler_time(at),
            id=f"{kind.value}:{callback_id}",
            replace_existing=True,
        )

    def _remove(self, kind: TimerKind, callback_id: int) -> None:
        job = self._scheduler.get_job(f"{kind.value}:{callback_id}")
        if job is not None:
            job.remove()

    async def _fired(self) -> None:
        self._wake()

    async def _sweep(self) -> None:
        await self.load()
        self._wake()

    def _speed(self) -> float:
        # The demo's simulated clock runs faster than the wall clock APScheduler waits on.
        speed = getattr(self._clock, "speed", 1.0)
        return speed if isinstance(speed, int | float) and speed > 0 else 1.0

    def _scheduler_time(self, instant: datetime) -> datetime:
        return datetime.now(UTC) + (instant - self._clock.now()) / self._speed()

    def _hotline_time(self, scheduled: datetime) -> datetime:
        return self._clock.now() + (scheduled - datetime.now(UTC)) * self._speed()
