"""The dispatcher's timers in APScheduler 3.11: when to look at the tables again.

A timer holds no decision: whatever fires, the engine re-reads its tables. So timers are
kept in memory only (no job store: the issue's measurements show APScheduler's SQLAlchemy
store blocks the loop and fires shared jobs twice), one per instant whatever the number of
callbacks due then, for what falls due within the horizon only, and rebuilt from the tables
at start-up and at every sweep, a chunk at a time so the event loop never waits long.
`misfire_grace_time=None` and coalescing: a timer that passed while the loop was busy runs
late, once, never skipped.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.callbacks import store
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.rules import warning_at
from callrouter.clock import Clock

log = structlog.get_logger(__name__)

#: Rows read at a time from the tables. A partition of 500 held the loop ~20 ms of CPU on
#: the development VM (the rows' datetimes, `timers_of`, then up to a hundred adds), which a
#: loaded machine stretched to 50-85 ms of wall time; 100 rows cost ~3 ms.
CHUNK = 100
#: Timers are added for at most this long between two yields to the event loop: an add
#: costs 0.1-0.3 ms (APScheduler inspects the callable's signature every time).
TURN_BUDGET_S = 0.004
_SWEEP = "sweep"


class TimerKind(enum.StrEnum):
    ATTEMPT = "attempt"
    WARNING = "warning"
    DEADLINE = "deadline"


def timers_of(
    row: Any, config: CallbacksConfig, now: datetime, until: datetime
) -> list[tuple[TimerKind, datetime]]:
    """The instants after `now` and up to `until` when something may happen to an open
    callback: its retry may start, its warning or its deadline falls."""
    # Claimed a little ahead, placed on time (CallbacksConfig.claim_ahead).
    instants = [(TimerKind.ATTEMPT, row.not_before - config.claim_ahead)]
    if row.warned_at is None:
        warn = row.warn_at if row.warn_at is not None else warning_at(row.due_at, config.policy)
        instants.append((TimerKind.WARNING, warn))
    if row.breached_at is None:
        instants.append((TimerKind.DEADLINE, row.due_at))
    return [(kind, at) for kind, at in instants if now < at <= until]


def clock_speed(clock: Clock) -> float:
    """How much faster than the wall clock (which APScheduler and asyncio wait on) the
    hotline's clock runs: the demo's simulated clock does."""
    speed = getattr(clock, "speed", 1.0)
    return speed if isinstance(speed, int | float) and speed > 0 else 1.0


def _rounded(kind: TimerKind, at: datetime) -> datetime:
    """Warnings and deadlines to the next whole second: a hundred thousand callbacks spread
    over four hours need at most 900 deadline timers in a 15-minute horizon. An attempt
    keeps its instant: it is placed on time."""
    if kind is TimerKind.ATTEMPT or at.microsecond == 0:
        return at
    return at.replace(microsecond=0) + timedelta(seconds=1)


def _scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )


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
        #: Ids of the timers planned and not fired yet.
        self._planned: set[str] = set()

    def start(self) -> None:
        """Start afresh (a dispatcher that lost the lead and took it back starts over)."""
        self.shutdown()
        self._scheduler = _scheduler()
        self._scheduler.start()
        self._scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self._config.sweep_interval.total_seconds() / self._speed(),
            id=_SWEEP,
        )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            self._scheduler.remove_all_jobs()
        self._planned.clear()

    @property
    def count(self) -> int:
        """Timers planned and not fired yet (one per instant)."""
        return len(self._planned)

    def instants(self) -> list[datetime]:
        """When the planned timers fire, on the hotline's clock, earliest first."""
        return sorted(
            self._hotline_time(job.next_run_time)
            for job in self._scheduler.get_jobs()
            if job.id in self._planned
        )

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
        """Plan the marked callbacks' next instants. Timers planned for them before are
        left: one no longer needed only makes the engine look once more, for nothing."""
        if not self._marked:
            return
        marked, self._marked = sorted(self._marked), set()
        now = self._clock.now()
        until = now + self._config.timer_horizon
        for start in range(0, len(marked), CHUNK):
            chunk = marked[start : start + CHUNK]
            query = select(*store.TIMER_COLUMNS).where(
                store.CALLBACKS.c.id.in_(chunk), store.CALLBACKS.c.closed_at.is_(None)
            )
            await self._plan_rows(query, now, until)

    async def _plan_rows(self, query: Any, now: datetime, until: datetime) -> int:
        planned = 0
        async with self._engine.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=CHUNK))
            async for rows in result.partitions():
                instants = {
                    _rounded(kind, at)
                    for row in rows
                    for kind, at in timers_of(row, self._config, now, until)
                }
                planned += await self._add_all(sorted(instants))
        return planned

    async def _add_all(self, instants: list[datetime]) -> int:
        added = index = 0
        while index < len(instants):
            # Paused, APScheduler does not re-examine its jobs after each one added:
            # resuming does it once for the whole group.
            running = self._scheduler.state == STATE_RUNNING
            if running:
                self._scheduler.pause()
            turn_ends = time.perf_counter() + TURN_BUDGET_S
            try:
                while index < len(instants):
                    added += self._add(instants[index])
                    index += 1
                    if time.perf_counter() >= turn_ends:
                        break
            finally:
                if running:
                    self._scheduler.resume()
            # Let the loop breathe: calls keep being routed meanwhile.
            await asyncio.sleep(0)
        return added

    def _add(self, at: datetime) -> int:
        """One timer per instant: a thousand attempts planned for the same instant are one
        job, not a thousand for APScheduler to run one by one. 1 if it is new."""
        job_id = f"wake:{at.timestamp():.3f}"
        if job_id in self._planned:
            return 0
        self._planned.add(job_id)
        self._scheduler.add_job(
            self._fired,
            "date",
            args=(job_id,),
            run_date=self._scheduler_time(at),
            id=job_id,
        )
        return 1

    async def _fired(self, job_id: str) -> None:
        self._planned.discard(job_id)
        self._wake()

    async def _sweep(self) -> None:
        await self.load()
        self._wake()

    def _speed(self) -> float:
        return clock_speed(self._clock)

    def _scheduler_time(self, instant: datetime) -> datetime:
        return datetime.now(UTC) + (instant - self._clock.now()) / self._speed()

    def _hotline_time(self, scheduled: datetime) -> datetime:
        return self._clock.now() + (scheduled - datetime.now(UTC)) * self._speed()
