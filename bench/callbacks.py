"""The callbacks' dispatcher on PostgreSQL: start-up rebuild, lateness, loop lag, memory.

    python bench/callbacks.py [--url postgresql+asyncpg://...] [--pending 100000]

Without --url it uses $CALLROUTER_TEST_POSTGRES_URL and creates (then drops) its own
database. Two runs:

1. Rebuild: `--pending` open callbacks (due 31 min to 4 h ahead, so none is at risk yet)
   are in the tables; a dispatcher starts: it takes the lead, reconciles, loads the timers
   of its horizon a chunk at a time and runs a first cycle. Prints the time until it
   dispatches, the longest event-loop stall meanwhile (a 5 ms ticker's worst lateness) and
   the process's RSS with them all pending.
   Targets (issue 8): <= 2 s, no stall over 50 ms, RSS <= 300 MB.
2. Burst: 1,000 callbacks whose attempts are planned for the same instant, 1,000 experts
   free (presence given, as the live view would), a placer that records when place() is
   called (the Originate would be written then). Prints the lateness from the planned
   instant to place(), p50 and p99, and the loop's worst stall meanwhile.
   Target: p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import structlog

from callrouter.calendar import PublicHolidays, TimeRange, Weekday, WeeklyWindow
from callrouter.callbacks.alerts import CallbackAlerts
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.placing import AttemptRequest
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.clock import SystemClock
from callrouter.db.driver import driver_connection
from callrouter.db.engine import create_engine
from callrouter.db.migrate import upgrade_async
from callrouter.experts.rules import Expert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import temporary_postgres_database

ALWAYS = WeeklyWindow(
    days=frozenset(Weekday),
    ranges=(TimeRange(clock_time(0), clock_time(0)),),
    closed_on_holidays=False,
    holidays=PublicHolidays(),
)


class LoopLag:
    """The worst lateness of a 5 ms ticker: how long the event loop was kept busy; and the
    CPU this thread used meanwhile (on a loaded machine the rest of a stall is time the
    process waited for a core, not work done on the loop)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - before - 0.005
            if late > self.worst:
                self.worst, self.worst_cpu = late, time.thread_time() - cpu

    def __str__(self) -> str:
        return f"{self.worst * 1000:.1f} ms ({self.worst_cpu * 1000:.1f} ms of CPU on the loop)"

    def __enter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


class RecordingPlacer:
    def __init__(self) -> None:
        self.lateness: list[float] = []
        self.planned: dict[int, datetime] = {}

    async def place(self, request: AttemptRequest) -> None:
        self.lateness.append(
            (datetime.now(UTC) - self.planned[request.callback_id]).total_seconds()
        )

    async def reconcile(self, attempt_ids: Sequence[int]) -> dict[int, bool]:
        return dict.fromkeys(attempt_ids, False)


async def seed(
    url: str, count: int, due_from: timedelta, due_to: timedelta, ready_at: datetime
) -> None:
    """`count` incidents with their open callbacks, written with COPY (seeding is not
    what is measured)."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with driver_connection(engine) as driver:
            await driver.execute(
                "TRUNCATE callback_attempts, callbacks, incidents RESTART IDENTITY CASCADE"
            )
            account = await driver.fetchval(
                "INSERT INTO accounts (number, holder_name, pin_hash, web_code_hash, created_at,"
                " balance) VALUES ('20000000', 'Bench', '-', '-', $1, 0)"
                " ON CONFLICT (number) DO UPDATE SET holder_name = 'Bench' RETURNING id",
                now,
            )
            span = (due_to - due_from) / max(count, 1)
            await driver.copy_records_to_table(
                "incidents",
                columns=[
                    "id",
                    "account_id",
                    "level",
                    "chosen_pass",
                    "third_party",
                    "emergency",
                    "classification",
                    "price",
                    "debited",
                    "balance_after",
                    "summary",
                    "opened_at",
                    "open_key",
                ],
                records=[
                    (
                        n,
                        account,
                        "standard",
                        "4h",
                        False,
                        False,
                        "expert",
                        0,
                        0,
                        0,
                        "",
                        now,
                        f"bench-{n}",
                    )
                    for n in range(1, count + 1)
                ],
            )
            await driver.copy_records_to_table(
                "callbacks",
                columns=[
                    "id",
                    "incident_id",
                    "domain",
                    "number",
                    "opened_at",
                    "due_at",
                    "not_before",
                    "customer_tries",
                    "passed_over",
                ],
                records=[
                    (n, n, "knx", "0612345678", now, now + due_from + span * n, ready_at, 0, "")
                    for n in range(1, count + 1)
                ],
            )
            await driver.execute("ANALYZE")
    finally:
        await engine.dispose()
    # The seed's garbage is collected now, not in the middle of what is measured.
    gc.collect()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dispatcher_on(
    url: str, config: CallbacksConfig, placer: RecordingPlacer | None, experts: list[Expert]
) -> tuple[CallbackDispatcher, object]:
    engine = create_engine(url)
    clock = SystemClock()

    async def everyone() -> list[Expert]:
        return experts

    callbacks = CallbackEngine(
        engine,
        clock,
        config,
        placer,
        experts=everyone,
        free_experts=lambda all_experts, now: all_experts,
        alerts=CallbackAlerts(),
        name="bench",
    )
    return CallbackDispatcher(engine, clock, config, callbacks), engine


async def rebuild(url: str, pending: int) -> None:
    config = CallbacksConfig()
    far = datetime.now(UTC) + timedelta(days=1)
    # Nobody to dial: the rebuild is measured, not the calls.
    await seed(url, pending, timedelta(minutes=31), timedelta(hours=4), far)
    dispatcher, engine = dispatcher_on(url, config, RecordingPlacer(), [])
    with LoopLag() as lag:
        started = time.perf_counter()
        dispatcher.start()
        await dispatcher.leading.wait()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.05)
    timers = dispatcher.timers.count
    memory = rss_mb()
    await dispatcher.close()
    await engine.dispose()  # type: ignore[attr-defined]
    print(
        f"rebuild, {pending:,} pending: dispatching after {elapsed:.3f} s "
        f"({timers:,} timers within the {config.timer_horizon} horizon), "
        f"worst loop stall {lag}, RSS {memory:.0f} MB"
    )


async def burst(url: str, attempts: int) -> None:
    config = CallbacksConfig()
    planned = datetime.now(UTC) + timedelta(seconds=3)
    await seed(url, attempts, timedelta(hours=1), timedelta(hours=2), planned)
    placer = RecordingPlacer()
    placer.planned = dict.fromkeys(range(1, attempts + 1), planned)
    experts = [
        Expert(f"expert{n}", f"Local/expert{n}@experts", frozenset({"knx"}), ALWAYS)
        for n in range(attempts)
    ]
    dispatcher, engine = dispatcher_on(url, config, placer, experts)
    dispatcher.start()
    await dispatcher.leading.wait()
    with LoopLag() as lag:
        deadline = time.perf_counter() + 30
        while len(placer.lateness) < attempts and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
    await dispatcher.close()
    await engine.dispose()  # type: ignore[attr-defined]
    late = sorted(placer.lateness)
    if len(late) < attempts:
        print(f"burst: only {len(late)} of {attempts} placed within 30 s")
        return
    p99 = late[int(len(late) * 0.99) - 1]
    print(
        f"burst, {attempts:,} attempts planned at one instant, {attempts:,} experts free: "
        f"lateness to place() p50 {statistics.median(late) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {late[-1] * 1000:.1f} ms; "
        f"worst loop stall {lag}"
    )


async def main_async(url: str, pending: int, attempts: int) -> None:
    await upgrade_async(url)
    await rebuild(url, pending)
    await burst(url, attempts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: a throw-away database)")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=1_000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    if args.url:
        asyncio.run(main_async(args.url, args.pending, args.attempts))
        return
    server = os.environ.get("CALLROUTER_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("give --url, or set CALLROUTER_TEST_POSTGRES_URL")
    with temporary_postgres_database(server) as url:
        asyncio.run(main_async(url, args.pending, args.attempts))


if __name__ == "__main__":
    main()
