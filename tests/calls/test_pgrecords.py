"""On PostgreSQL the writer sends batches of records straight to asyncpg through the hot
pool: the records read back exactly as the SQLAlchemy path stores them, a batch with a
fail-safe still takes the path that flags decisions, a naive instant is still refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls import writer as writer_module
from callrouter.calls.records import CallRecordData, recent_call_records
from callrouter.calls.writer import CallRecordWriter
from callrouter.db.hotpool import HotPool

from .test_records import CLOSED, FAILSAFE, QUEUED

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
async def hot_pool(database_engine: AsyncEngine) -> AsyncIterator[HotPool]:
    pool = HotPool(database_engine, 2)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[CallRecordData]:
    async with sessions() as session:
        return await recent_call_records(session, limit=1000)


def no_core_inserts(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(*_args: Any) -> None:
        raise AssertionError("the records went through SQLAlchemy")

    monkeypatch.setattr(writer_module, "add_call_records", refused)


async def test_records_go_straight_to_asyncpg_and_read_back_unchanged(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_core_inserts(monkeypatch)
    # Every kind of value: nulls, a pass, a priority, an error, a reconciliation instant.
    reconciled = replace(
        CLOSED,
        uniqueid="1741000100.3",
        redirected=False,
        error="Channel not found",
        reconciled_at=datetime.fromisoformat("2025-03-03T10:30:00+01:00"),
    )
    given = [QUEUED, CLOSED, reconciled]
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(QUEUED)
    await writer.flush()
    writer.add(CLOSED)
    writer.add(reconciled)
    await writer.flush()
    by_id = {record.uniqueid: record for record in await stored(engine_sessions)}
    assert by_id == {record.uniqueid: record for record in given}


async def test_a_batch_with_a_failsafe_flags_the_decision_it_follows(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
) -> None:
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(QUEUED)
    writer.add_failsafe(replace(FAILSAFE, uniqueid=QUEUED.uniqueid))
    await writer.flush()
    assert [(r.uniqueid, r.failsafe) for r in await stored(engine_sessions)] == [
        (QUEUED.uniqueid, True)
    ]


async def test_a_naive_instant_is_refused_and_the_batch_kept(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
) -> None:
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(replace(QUEUED, decided_at=QUEUED.decided_at.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="naive datetime"):
        await writer.flush()
    assert await stored(engine_sessions) == []


async def test_without_an_open_hot_pool_the_records_take_sqlalchemy(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    closed = HotPool(database_engine, 1)
    writer = CallRecordWriter(database_engine, hot_pool=closed)
    writer.add(QUEUED)
    await writer.flush()
    assert await stored(engine_sessions) == [QUEUED]
