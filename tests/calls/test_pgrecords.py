"""On PostgreSQL the writer sends every batch straight to asyncpg through the hot pool:
the records read back exactly as the SQLAlchemy path stores them, outcomes complete their
decisions and fail-safes flag them as there, a naive instant is still refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls import writer as writer_module
from callrouter.calls.records import CallOutcome, CallRecordData, recent_call_records
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

    for name in ("add_call_records", "record_outcomes", "record_failsafe"):
        monkeypatch.setattr(writer_module, name, refused)


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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_core_inserts(monkeypatch)
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(QUEUED)
    writer.add_failsafe(replace(FAILSAFE, uniqueid=QUEUED.uniqueid))
    await writer.flush()
    assert [(r.uniqueid, r.failsafe) for r in await stored(engine_sessions)] == [
        (QUEUED.uniqueid, True)
    ]


async def test_failsafes_flag_each_calls_latest_decision_or_record_the_undecided_once(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A burst of fail-safes (the router fell behind) in one batch: a call retried twice
    # has its latest decision flagged, not the first; a call never decided, announced
    # twice, gets one fail-safe record; a decided call without a fail-safe is untouched.
    no_core_inserts(monkeypatch)
    first_try = replace(QUEUED, uniqueid="1741000200.1", target="pin-retry", queue=None)
    second_try = replace(
        first_try, target="coordinators-queue", decided_at=QUEUED.decided_at + timedelta(seconds=20)
    )
    untouched = replace(QUEUED, uniqueid="1741000200.2")
    undecided = replace(FAILSAFE, uniqueid="1741000200.3")
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(first_try)
    writer.add(untouched)
    await writer.flush()
    writer.add(second_try)
    writer.add_failsafe(replace(FAILSAFE, uniqueid=first_try.uniqueid))
    writer.add_failsafe(undecided)
    writer.add_failsafe(replace(undecided, latency_ms=6000.0))
    await writer.flush()
    assert sorted(
        ((r.uniqueid, r.target, r.failsafe) for r in await stored(engine_sessions)),
    ) == [
        (first_try.uniqueid, "coordinators-queue", True),
        (first_try.uniqueid, "pin-retry", False),
        (untouched.uniqueid, untouched.target, False),
        (undecided.uniqueid, undecided.target, True),
    ]
    [kept] = [r for r in await stored(engine_sessions) if r.uniqueid == undecided.uniqueid]
    assert kept == undecided


async def test_an_outcome_completes_its_decision_straight_through_asyncpg(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_core_inserts(monkeypatch)
    message = replace(CLOSED, uniqueid="1741000300.1", redirected=False, error="no answer on file")
    other = replace(message, target="pin-retry")
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(message)
    writer.add(other)
    # In the same batch as its record, then in a later one.
    writer.set_outcome(
        CallOutcome(
            uniqueid=message.uniqueid,
            decided_at=message.decided_at,
            target=message.target,
            redirected=False,
            error="Channel does not exist",
            latency_ms=4.2,
        )
    )
    await writer.flush()
    by_target = {r.target: r for r in await stored(engine_sessions)}
    assert by_target[message.target] == replace(
        message, error="Channel does not exist", latency_ms=4.2
    )
    assert by_target["pin-retry"] == other
    writer.set_outcome(
        CallOutcome(
            uniqueid=message.uniqueid,
            decided_at=message.decided_at,
            target=message.target,
            redirected=True,
            error=None,
            latency_ms=3.1,
        )
    )
    await writer.flush()
    by_target = {r.target: r for r in await stored(engine_sessions)}
    assert by_target[message.target] == replace(
        message, redirected=True, error=None, latency_ms=3.1
    )
    assert by_target["pin-retry"] == other


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


async def test_a_batch_committed_under_a_cancelled_flush_is_written_once(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    hot_pool: HotPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write = writer_module._write_on_postgres
    committed, release = asyncio.Event(), asyncio.Event()

    async def held_after_commit(*batch: Any) -> None:
        await write(*batch)
        committed.set()
        await release.wait()  # the connection being given back

    monkeypatch.setattr(writer_module, "_write_on_postgres", held_after_commit)
    writer = CallRecordWriter(database_engine, hot_pool=hot_pool)
    writer.add(QUEUED)
    caller = asyncio.create_task(writer.flush())
    await committed.wait()
    caller.cancel()  # its HTTP client went away, after the commit
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await writer.close()
    assert await stored(engine_sessions) == [QUEUED]
