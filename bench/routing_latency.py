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
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from callrouter.clock import SimulatedClock
from callrouter.config import Config
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


async def seed(hotline: Hotline) -> list[CallerProfile]:
    assert hotline.identity is not None and hotline.ledger is not None
    profiles: list[CallerProfile] = []
    for index in range(ACCOUNTS):
        account = await hotline.identity.create_account(f"Client {index}", pin="240517")
        await hotline.ledger.credit(
            account.number, 1000, reason="bench", idempotency_key=f"bench:{account.number}"
        )
        for person in range(BENEFICIARIES_PER_ACCOUNT):
            caller_id = f"06{index:04d}{person:04d}"
            await hotline.identity.add_beneficiary(account.number, f"B {index}.{person}", caller_id)
            profiles.append(
                CallerProfile(caller_id, f"B {index}.{person}", pass_digit="13"[person % 2])
            )
    return profiles


async def run(url: str, rate: float, seconds: float) -> None:
    secret = secrets.token_urlsafe(12)
    simulator = PBXSimulator(
        SimulatorSettings(port=0, secret=secret, seed=1, unknown_caller_share=0.1)
    )
    await simulator.start()
    weekday_10h = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
    hotline = Hotline(
        config=Config(),
        database_url=url,
        pbx=PBXLink("127.0.0.1", simulator.port, "callrouter", secret),
        clock=SimulatedClock(weekday_10h),
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    try:
        while hotline.ami is None or not hotline.ami.connected:
            await asyncio.sleep(0.05)
        print(f"seeding {ACCOUNTS} accounts, {ACCOUNTS * BENEFICIARIES_PER_ACCOUNT} callers ...")
        profiles = await seed(hotline)
        assert hotline.router is not None
        hotline.router.latencies_ms.clear()
        print(f"traffic: {rate:g} new calls/s for {seconds:g} s")
        started = time.perf_counter()
        simulator.start_traffic(rate, profiles)
        await asyncio.sleep(seconds)
        simulator.stop_traffic()
        await hotline.router.wait_idle()
        elapsed = time.perf_counter() - started
        latencies = hotline.router.latencies_ms
        stats = hotline.ami.stats
        print(
            f"routed {len(latencies)} calls in {elapsed:.1f} s "
            f"({len(latencies) / elapsed:.1f} calls/s); AMI events received {stats.events}"
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
        await runner.cleanup()
        await simulator.stop()


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
