"""Routing latency: HotlineCall received to Redirect sent, through the PBX simulator.

    python bench/routing_latency.py [--url postgresql+asyncpg://...] [--rate 100] [--seconds 20]

Runs the real hotline (AMI over loopback TCP, live view, identity and balance checks in
the database, call records) against the simulator's inbound traffic at `--rate` new calls
per second, on a weekday at 10:00 (every known caller is checked for payment and queued).
Without --url it uses $CALLROUTER_TEST_POSTGRES_URL and creates (then drops) its own
database; `--url sqlite` runs on a temporary SQLite file instead. Prints p50/p90/p99/max.
Target (issue "Hotline core"): p99 <= 5 ms at 100 calls/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from callrouter.clock import SimulatedClock, SystemClock
from callrouter.config import Config
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.migrate import upgrade_async
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings
from callrouter.server.runtime import Hotline, PBXLink, build_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import temporary_postgres_database

PARIS = ZoneInfo("Europe/Paris")
ACCOUNTS = 50
BENEFICIARIES_PER_ACCOUNT = 4


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def seed(url: str) -> list[CallerProfile]:
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    identity = IdentityService(sessions, SystemClock())
    ledger = LedgerService(sessions, SystemClock(), LedgerConfig())
    profiles: list[CallerProfile] = []
    try:
        for index in range(ACCOUNTS):
            account = await identity.create_account(f"Client {index}", pin="240517")
            await ledger.credit(
                account.number, 1000, reason="bench", idempotency_key=f"bench:{account.number}"
            )
            for person in range(BENEFICIARIES_PER_ACCOUNT):
                caller_id = f"06{index:04d}{person:04d}"
                name = f"B {index}.{person}"
                await identity.add_beneficiary(account.number, name, caller_id)
                profiles.append(CallerProfile(caller_id, name, pass_digit="13"[person % 2]))
    finally:
        await engine.dispose()
    return profiles


def simulator_process(
    secret: str,
    profiles: list[CallerProfile],
    rate: float,
    seconds: float,
    ports: multiprocessing.Queue[int],
    go: EventType,
    done: EventType,
) -> None:
    """The PBX runs in its own process, as a real Asterisk would on its own machine: niced,
    so that on a small test box it does not take the CPU the router and PostgreSQL need."""
    os.nice(10)

    async def main() -> None:
        simulator = PBXSimulator(
            SimulatorSettings(
                port=0,
                secret=secret,
                seed=1,
                unknown_caller_share=0.1,
                # Callers give up after a while, so the queues stay a realistic length.
                patience=(5.0, 15.0),
            )
        )
        await simulator.start()
        ports.put(simulator.port)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, go.wait)
        simulator.start_traffic(rate, profiles)
        await asyncio.sleep(seconds)
        simulator.stop_traffic()
        await loop.run_in_executor(None, done.wait)
        await simulator.stop()

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    asyncio.run(main())


async def run(url: str, rate: float, seconds: float) -> None:
    print(f"seeding {ACCOUNTS} accounts, {ACCOUNTS * BENEFICIARIES_PER_ACCOUNT} callers ...")
    profiles = await seed(url)
    secret = secrets.token_urlsafe(12)
    context = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = context.Queue()
    go, done = context.Event(), context.Event()
    pbx = context.Process(
        target=simulator_process, args=(secret, profiles, rate, seconds, ports, go, done)
    )
    pbx.start()
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, ports.get)
    weekday_10h = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
    hotline = Hotline(
        config=Config(),
        database_url=url,
        pbx=PBXLink("127.0.0.1", port, "callrouter", secret),
        clock=SimulatedClock(weekday_10h),
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    try:
        while hotline.ami is None or not hotline.ami.connected:
            await asyncio.sleep(0.05)
        assert hotline.router is not None
        print(f"traffic: {rate:g} new calls/s for {seconds:g} s (simulator in its own process)")
        started = time.perf_counter()
        cpu_started = time.process_time()
        go.set()
        await asyncio.sleep(seconds)
        await hotline.router.wait_idle()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        latencies = list(hotline.router.latencies_ms)
        stats = hotline.ami.stats
        print(
            f"routed {len(latencies)} calls in {elapsed:.1f} s "
            f"({len(latencies) / elapsed:.1f} calls/s); AMI events received {stats.events}; "
            f"router CPU {100 * cpu / elapsed:.0f}% of one core"
        )
        if latencies:
            print(
                "latency UserEvent received -> Redirect sent: "
                f"p50 {percentile(latencies, 0.50):.2f} ms, "
                f"p90 {percentile(latencies, 0.90):.2f} ms, "
                f"p99 {percentile(latencies, 0.99):.2f} ms, "
                f"max {max(latencies):.2f} ms, mean {statistics.fmean(latencies):.2f} ms"
            )
            print(f"target p99 <= 5 ms: {'met' if percentile(latencies, 0.99) <= 5 else 'MISSED'}")
    finally:
        done.set()
        await runner.cleanup()
        await loop.run_in_executor(None, pbx.join)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("CALLROUTER_TEST_POSTGRES_URL"))
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    if not args.url:
        sys.exit("set CALLROUTER_TEST_POSTGRES_URL or pass --url (or --url sqlite)")
    if args.url == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            print(f"database: SQLite ({url})")
            asyncio.run(run(url, args.rate, args.seconds))
        return
    with temporary_postgres_database(args.url) as url:
        print("database: PostgreSQL (temporary database)")
        asyncio.run(run(url, args.rate, args.seconds))


if __name__ == "__main__":
    main()
