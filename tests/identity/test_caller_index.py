"""On PostgreSQL callers are recognised by caller ID from memory, and the memory follows
the database: beneficiaries confirmed or removed and balances changed by anyone (another
process included) are seen as soon as their notification is in; while the index cannot be
sure (its LISTEN connection lost), the database answers, as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.db.hotpool import HotPool
from callrouter.identity.callerindex import UNSURE, CallerIndex, KnownCaller
from callrouter.identity.service import IdentificationStatus, IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

PIN = "482913"


@pytest.fixture
async def hot_pool(database_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[HotPool]:
    engine = database_sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    pool = HotPool(engine, 2)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def index(hot_pool: HotPool) -> AsyncIterator[CallerIndex]:
    callers = CallerIndex(hot_pool)
    try:
        yield callers
    finally:
        await callers.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def ledger(database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> LedgerService:
    return LedgerService(database_sessions, clock, LedgerConfig())


def no_queries(hot_pool: HotPool, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(*_args: Any) -> None:
        raise AssertionError("the caller was looked up in the database")

    monkeypatch.setattr(hot_pool, "fetchrow", refused)


async def test_a_caller_known_at_start_is_recognised_without_a_query(
    service: IdentityService,
    database_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
    index: CallerIndex,
    ledger: LedgerService,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = await service.create_account("Durand", pin=PIN)
    await service.add_beneficiary(account.number, "Marie", "0612345678")
    await ledger.credit(account.number, 120, reason="pack", idempotency_key="pack-1")
    await index.start()
    remembering = IdentityService(database_sessions, clock, hot_pool=hot_pool, callers=index)
    no_queries(hot_pool, monkeypatch)

    found = await remembering.identify_caller("+33 6 12 34 56 78", "", "")
    assert (found.status, found.account_number, found.beneficiary_name, found.balance) == (
        IdentificationStatus.CALLER_ID,
        account.number,
        "Marie",
        120,
    )
    stranger = await remembering.identify_caller("0699999999", "", "")
    assert stranger.status is IdentificationStatus.UNKNOWN


async def test_changes_committed_elsewhere_are_followed(
    service: IdentityService, index: CallerIndex, ledger: LedgerService
) -> None:
    first = await service.create_account("Durand", pin=PIN)
    await service.add_beneficiary(first.number, "Marie", "0612345678")
    await index.start()
    # After the start, by other connections: a new account with its beneficiary, points
    # credited and debited, a number removed, a number named but not confirmed.
    second = await service.create_account("Martin", pin=PIN)
    await service.add_beneficiary(second.number, "Paul", "0611111111")
    await ledger.credit(second.number, 300, reason="pack", idempotency_key="pack-2")
    await ledger.credit(first.number, 100, reason="pack", idempotency_key="pack-1")
    await ledger.adjust(first.number, -40, reason="correction", idempotency_key="fix-1")
    await service.remove_beneficiary(first.number, "0612345678")
    await service.name_beneficiary(second.number, "Léa", "0622222222")
    await index.caught_up()

    assert index.lookup("0611111111") == KnownCaller(second.number, "Paul", 300)
    assert index.lookup("0612345678") is None
    assert index.lookup("0622222222") is None
    await service.add_beneficiary(first.number, "Marie", "0612345678")
    await index.caught_up()
    assert index.lookup("0612345678") == KnownCaller(first.number, "Marie", 60)


async def test_without_its_notifications_the_index_answers_nothing_until_loaded_again(
    service: IdentityService,
    index: CallerIndex,
    ledger: LedgerService,
    database_url: str,
) -> None:
    account = await service.create_account("Durand", pin=PIN)
    await service.add_beneficiary(account.number, "Marie", "0612345678")
    await index.start()
    assert index.lookup("0612345678") == KnownCaller(account.number, "Marie", 0)

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(dsn)
    try:
        # The LISTEN connection dies (a PostgreSQL restart, a network cut)...
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        async with asyncio.timeout(10):
            while index.ready:
                await asyncio.sleep(0.01)
        # ...the points change meanwhile, unnotified to this index.
        assert index.lookup("0612345678") is UNSURE
        await ledger.credit(account.number, 50, reason="pack", idempotency_key="pack-1")
        async with asyncio.timeout(10):
            while not index.ready:
                await asyncio.sleep(0.01)
    finally:
        await admin.close()
    assert index.lookup("0612345678") == KnownCaller(account.number, "Marie", 50)
