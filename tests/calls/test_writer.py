"""The call-record writer: writes at once off the callers' path, batches what comes during
a write, loses nothing it was given."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls import writer as writer_module
from callrouter.calls.records import CallOutcome, CallRecordData, recent_call_records
from callrouter.calls.writer import CallRecordWriter
from callrouter.passes import Pass

from .conftest import database_away
from .test_records import FAILSAFE, QUEUED


def record(n: int) -> CallRecordData:
    return replace(QUEUED, uniqueid=f"1741000000.{n}", chosen_pass=Pass.FOUR_HOURS.value)


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[CallRecordData]:
    async with sessions() as session:
        return await recent_call_records(session, limit=1000)


async def test_records_are_written_on_flush_and_a_failsafe_after_its_decision(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = CallRecordWriter(database_engine)
    for n in range(3):
        writer.add(record(n))
    # The fail-safe arrives in the same batch as the decision it flags.
    writer.add_failsafe(replace(FAILSAFE, uniqueid="1741000000.1"))
    assert await stored(engine_sessions) == []
    await writer.flush()
    by_id = {r.uniqueid: r for r in await stored(engine_sessions)}
    assert sorted(by_id) == ["1741000000.0", "1741000000.1", "1741000000.2"]
    assert [by_id[u].failsafe for u in sorted(by_id)] == [False, True, False]


async def test_a_record_is_committed_without_waiting_for_a_timer(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Nothing holds a record in memory once the writer is free: a router killed right
    # after routing loses at most the write under way (issue 7, item 12).
    writer = CallRecordWriter(database_engine)
    writer.start()
    try:
        committed = writer.add(record(1))
        await committed
        assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000000.1"]
        await writer.add_failsafe(FAILSAFE)
        assert len(await stored(engine_sessions)) == 2
    finally:
        await writer.close()


async def test_close_writes_what_is_left(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = CallRecordWriter(database_engine)
    writer.add(record(7))
    await writer.close()
    assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000000.7"]


async def test_a_failed_write_keeps_the_records_for_the_next_round(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine)
    writer.add(record(1))
    database_away(monkeypatch)
    with pytest.raises(OSError):
        await writer.flush()
    monkeypatch.undo()
    second = writer.add(record(2))
    await writer.flush()
    assert second.done()
    assert sorted(r.uniqueid for r in await stored(engine_sessions)) == [
        "1741000000.1",
        "1741000000.2",
    ]


async def test_memory_stays_bounded_while_the_database_is_away(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "MAX_PENDING", 5)
    writer = CallRecordWriter(database_engine)
    for n in range(8):
        writer.add(record(n))
    await writer.flush()
    # The oldest three were dropped (and logged); the latest five are kept.
    assert sorted(r.uniqueid[-1] for r in await stored(engine_sessions)) == list("34567")


def outcome(of: CallRecordData, *, redirected: bool, error: str | None) -> CallOutcome:
    return CallOutcome(
        uniqueid=of.uniqueid,
        decided_at=of.decided_at,
        target=of.target,
        redirected=redirected,
        error=error,
        latency_ms=4.2,
    )


async def test_an_outcome_completes_its_own_decision_in_the_same_batch(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A call's first attempt (PIN retry), then its message, stored before its Redirect.
    first = replace(record(1), target="pin-retry", redirected=True)
    message = replace(
        record(1),
        target="refusal-message",
        queue=None,
        # A frozen clock gives both decisions the same instant: the target tells them apart.
        decided_at=first.decided_at,
        redirected=False,
        error="unanswered",
    )
    writer = CallRecordWriter(database_engine)
    writer.add(first)
    writer.add(message)
    writer.set_outcome(outcome(message, redirected=False, error="Channel does not exist"))
    await writer.flush()
    by_target = {r.target: r for r in await stored(engine_sessions)}
    assert by_target["pin-retry"] == first
    done = by_target["refusal-message"]
    assert (done.redirected, done.error, done.latency_ms) == (
        False,
        "Channel does not exist",
        4.2,
    )
    writer.set_outcome(outcome(message, redirected=True, error=None))
    await writer.close()
    by_target = {r.target: r for r in await stored(engine_sessions)}
    assert by_target["refusal-message"].redirected
    assert by_target["refusal-message"].error is None


async def test_a_failed_write_keeps_the_outcomes_for_the_next_round(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = replace(record(3), redirected=False, error="unanswered")
    writer = CallRecordWriter(database_engine)
    writer.add(message)
    await writer.flush()
    writer.set_outcome(outcome(message, redirected=True, error=None))
    database_away(monkeypatch, "record_outcomes")
    with pytest.raises(OSError):
        await writer.flush()
    monkeypatch.undo()
    await writer.flush()
    [kept] = await stored(engine_sessions)
    assert kept.redirected and kept.error is None


async def test_close_does_not_write_twice_a_batch_it_finds_being_written(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine)
    # Committed; the connection is still being given back when the router stops.
    committed, release = committed_then_held(monkeypatch)
    writer.start()
    writer.add(record(1))
    await committed.wait()
    closing = asyncio.create_task(writer.close())
    while not writer_loop_ended(writer):
        await asyncio.sleep(0)
    release.set()
    await closing
    assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000000.1"]


def writer_loop_ended(writer: CallRecordWriter) -> bool:
    task = writer._task
    return task is None or task.done()


def committed_then_held(
    monkeypatch: pytest.MonkeyPatch, *, then_fails: bool = False
) -> tuple[asyncio.Event, asyncio.Event]:
    """The writer's write commits, then holds (the connection being given back) until
    the second event is set: a cancellation of the flush's caller lands after the commit.
    With `then_fails`, the write then fails as if its commit had not happened."""
    write = CallRecordWriter._write
    committed, release = asyncio.Event(), asyncio.Event()

    async def held_after_commit(self: CallRecordWriter, *batch: Any) -> None:
        if not then_fails:
            await write(self, *batch)
        committed.set()
        await release.wait()
        if then_fails:
            raise OSError("connection refused")

    monkeypatch.setattr(CallRecordWriter, "_write", held_after_commit)
    return committed, release


async def cancel_after_commit(
    writer: CallRecordWriter, committed: asyncio.Event, release: asyncio.Event
) -> None:
    """A flush awaited by a caller that goes away (an HTTP client hanging up) once the
    batch is committed."""
    caller = asyncio.create_task(writer.flush())
    await committed.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()


async def test_a_batch_committed_under_a_cancelled_flush_is_not_written_again(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine)
    first = writer.add(record(1))
    committed, release = committed_then_held(monkeypatch)
    await cancel_after_commit(writer, committed, release)
    # The next flush waits for the batch still finishing, and has nothing left to write.
    await writer.flush()
    assert first.done()
    await writer.close()
    assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000000.1"]


async def test_a_failed_write_under_a_cancelled_flush_is_kept_and_written_once(
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine)
    first = writer.add(record(1))
    committed, release = committed_then_held(monkeypatch, then_fails=True)
    await cancel_after_commit(writer, committed, release)
    monkeypatch.undo()
    await writer.close()
    assert first.done()
    assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000000.1"]
