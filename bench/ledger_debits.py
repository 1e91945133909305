"""Incident-opening debits per second, with 1 and 20 concurrent clients.

    python bench/ledger_debits.py [--url postgresql+asyncpg://...] [--debits 4000]

Each debit is LedgerService.open_incident: key look-up, account row lock, balance check,
incident and movement inserts, cached balance update, commit. Clients work on distinct
accounts (as different customers do); a last run has every client on ONE account, where the
row lock serialises them. Without --url it uses $CALLROUTER_TEST_POSTGRES_URL and creates
(then drops) its own database; `--url sqlite` runs on a temporary SQLite file. Prints
debits/s and the process CPU time per debit, then proves the ledger still balances.
Target (issue "Points accounts"): >= 1,200 debits/s with 20 clients on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import insert

from callrouter.clock import SystemClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.migrate import upgrade_async
from callrouter.identity.models import Account
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg import bench_database

PRICE = 35  # standard assistance, Pass 4H
CLIENTS = (1, 20)


async def seed(ledger: LedgerService, count: int, balance: int) -> list[str]:
    numbers = [f"{20_000_000 + index}" for index in range(count)]
    async with ledger.sessions.begin() as session:
        await session.execute(
            insert(Account),
            [
                {
                    "number": number,
                    "holder_name": f"Bench {number}",
                    "pin_hash": "-",
                    "web_code_hash": "-",
                    "created_at": datetime.now(UTC),
                }
                for number in numbers
            ],
        )
    for number in numbers:
        await ledger.credit(number, balance, reason="bench", idempotency_key=f"seed:{number}")
    return numbers


async def run(ledger: LedgerService, accounts: list[str], debits: int, label: str) -> None:
    clients = len(accounts)
    per_client = debits // clients

    async def client(index: int) -> None:
        for n in range(per_client):
            await ledger.open_incident(
                accounts[index],
                level=AssistanceLevel.STANDARD,
                pass_=Pass.FOUR_HOURS,
                idempotency_key=f"{label}:{index}:{n}",
                call=f"{index}.{n}",
            )

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(index) for index in range(clients)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = per_client * clients
    print(
        f"{label:<28} {done:>6} debits  {done / wall:>8.0f} debits/s  "
        f"{cpu / done * 1000:>5.2f} ms CPU/debit"
    )


async def bench(url: str, debits: int) -> None:
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        ledger = LedgerService(session_factory(engine), SystemClock(), LedgerConfig())
        accounts = await seed(ledger, max(CLIENTS) + 2, debits * PRICE)
        print(f"database: {engine.dialect.name}, pool of {engine.pool.size()} connections")
        for clients in CLIENTS:
            chosen = accounts[:clients] if clients == 1 else accounts[-clients:]
            await run(ledger, chosen, debits, f"{clients} client(s), own accounts")
        shared = accounts[1]
        await run(ledger, [shared] * max(CLIENTS), debits // 4, "20 clients, one account")
        mismatches = await ledger.check()
        print("ledger check:", "balanced" if not mismatches else f"MISMATCHES {mismatches}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL, or 'sqlite' (default: a temporary PG db)")
    parser.add_argument("--debits", type=int, default=4000, help="debits per run (default 4000)")
    args = parser.parse_args()
    # Production logs at info; the bench measures the ledger, not the log sink.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with bench_database(args.url) as url:
        asyncio.run(bench(url, args.debits))


if __name__ == "__main__":
    main()
