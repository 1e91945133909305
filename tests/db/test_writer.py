"""The embedded database under load: one writer at a time, queued in-process; readers free.

The demo test once failed with "database is locked" out of BEGIN IMMEDIATE: every
transaction, reads included, competed for SQLite's write lock through its busy handler,
whose polling lets an unlucky writer lose every round until the busy timeout. Here the
busy timeout is cut to 100 ms, so that what took a loaded machine 10 s shows at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls.models import CallRecord
from callrouter.calls.records import CallRecordData, recent_call_records
from callrouter.calls.writer import CallRecordWriter
from callrouter.clock import FakeClock
from callrouter.db import engine as engine_module
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.writer import NestedWriteError, write_transaction
from callrouter.identity.codes import CodeHasher
from callrouter.identity.errors import InvalidCredentials, SignInLocked
from callrouter.identity.models import Account
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SHORT_BUSY_TIMEOUT_MS = 100


@pytest.fixture
async def engine(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncEngine]:
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    engine = create_engine(sqlite_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def _record(n: int) -> CallRecordData:
    return CallRecordData(
        channel=f"PJSIP/trunk-{n:08d}",
        uniqueid=f"1795433938.{n}",
        linkedid=f"1795433938.{n}",
        caller_id="0612345678",
        account_number=None,
        caller_status="pin",
        chosen_pass="4h",
        window="coordinators",
        target="coordinators-queue",
        queue="coordinators",
        queue_priority=0,
        reason="load",
        arrived_at=NOW,
        decided_at=NOW,
        latency_ms=1.0,
    )


async def test_the_demo_s_writers_all_get_through_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = FakeClock(NOW)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    identity = IdentityService(sessions, clock, hasher=CodeHasher(web_hasher=cheap))
    ledger = LedgerService(sessions, clock, LedgerConfig())
    accounts = []
    for n in range(5):
        account = await identity.create_account(f"Holder {n}", web_code="Bienvenue-2026")
        await identity.add_beneficiary(account.number, f"Holder {n}", f"06000000{n:02d}")
        await ledger.credit(account.number, 10_000, reason="seed", idempotency_key=f"seed-{n}")
        accounts.append(account.number)
    records = CallRecordWriter(engine)
    records.start()
    failures: Counter[str] = Counter()

    async def counted(work: Awaitable[object]) -> None:
        try:
            await work
        except (InvalidCredentials, SignInLocked):
            pass  # what a wrong web code earns
        except Exception as error:
            failures[f"{type(error).__name__}: {str(error).splitlines()[0]}"] += 1

    async def call(n: int) -> None:
        # What each call of the demo costs the database: identification (caller ID, or a
        # wrong PIN counted), its record, a supervisor reading the calls.
        await identity.identify_caller(f"06000000{n % 5:02d}", None, None)
        await identity.identify_caller(None, accounts[n % 5], "000000")
        records.add(_record(n))
        await records.flush()
        async with sessions() as session:
            await recent_call_records(session, 20)

    async def debit(n: int) -> None:
        await ledger.open_incident(
            accounts[n % 5],
            level=AssistanceLevel.STANDARD,
            pass_=Pass.FOUR_HOURS,
            idempotency_key=f"call-{n}",
        )

    try:
        await asyncio.gather(
            *[
                counted(work)
                for n in range(60)
                for work in (
                    call(n),
                    debit(n),
                    identity.verify_web_code(accounts[n % 5], "Wrong-code-2026"),
                )
            ]
        )
    finally:
        await records.close()

    assert failures == Counter()
    assert [await ledger.balance(account) for account in accounts] == [10_000 - 12 * 35] * 5
    assert await ledger.check() == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CallRecord)) == 60


async def test_a_read_does_not_wait_for_the_writer(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writing, done = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with sessions.begin() as session:
            await session.execute(
                insert(Account).values(
                    number="40000001",
                    holder_name="Durand",
                    pin_hash="-",
                    web_code_hash="-",
                    created_at=NOW,
                )
            )
            writing.set()
            await done.wait()

    writer = asyncio.create_task(long_write())
    await writing.wait()
    try:
        # Three busy timeouts: a read that queued for the write lock would have failed.
        async with asyncio.timeout(3 * SHORT_BUSY_TIMEOUT_MS / 1000):
            async with sessions() as session:
                count = await session.scalar(select(func.count()).select_from(Account))
            async with engine.connect() as connection:
                await connection.scalar(select(func.count()).select_from(Account))
    finally:
        done.set()
        await writer
    assert count == 0  # the write was not committed yet: the read saw the last commit


async def test_writers_take_their_turn_in_the_order_they_asked(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    order: list[int] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def write(n: int) -> None:
        async with write_transaction(engine) as connection:
            await connection.execute(select(1))
            order.append(n)
            if n == 0:
                first_in.set()
                await release.wait()

    tasks = [asyncio.create_task(write(0))]
    await first_in.wait()
    for n in range(1, 6):
        tasks.append(asyncio.create_task(write(n)))
        await asyncio.sleep(0)  # each asks before the next
    release.set()
    await asyncio.gather(*tasks)

    assert order == [0, 1, 2, 3, 4, 5]


async def test_a_write_inside_a_write_of_the_same_task_is_refused_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with asyncio.timeout(1):
        async with sessions.begin():
            with pytest.raises(NestedWriteError, match="wait for itself"):
                async with write_transaction(engine):
                    pass
        # The turn was given back: the next write goes through.
        async with sessions.begin() as session:
            await session.execute(select(1))


async def test_a_flush_returns_once_the_records_a_running_flush_took_are_committed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Readers no longer queue behind the writer, so `/api/calls` (flush, then read) must
    # not return between the periodic flush taking the records and committing them.
    records = CallRecordWriter(engine)
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_writer() -> None:
        async with write_transaction(engine):
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_writer())
    await holding.wait()
    records.add(_record(1))
    periodic = asyncio.create_task(records.flush())  # takes the record, waits for its turn
    asked = asyncio.create_task(records.flush())
    for _ in range(20):
        await asyncio.sleep(0)

    assert not asked.done()
    release.set()
    await asyncio.gather(holder, periodic, asked)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CallRecord)) == 1
