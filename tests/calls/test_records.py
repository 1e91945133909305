"""Call records: every decision is kept, read back newest first, and failsafes flagged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.calls.records import (
    CallRecordData,
    add_call_records,
    recent_call_records,
    record_failsafe,
)
from callrouter.passes import Pass

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

QUEUED = CallRecordData(
    channel="PJSIP/trunk-00000001",
    uniqueid="1741000000.1",
    linkedid="1741000000.1",
    caller_id="0612345678",
    account_number="12345678",
    caller_status="caller-id",
    chosen_pass=Pass.PRIORITY,
    window="coordinators",
    target="coordinators",
    queue="coordinators",
    queue_priority=10,
    reason="Pass Prioritaire in coordinator hours",
    arrived_at=T0,
    decided_at=T0 + timedelta(milliseconds=3),
    latency_ms=2.7,
)
CLOSED = CallRecordData(
    channel="PJSIP/trunk-00000002",
    uniqueid="1741000100.2",
    linkedid="1741000100.2",
    caller_id="anonymous",
    account_number=None,
    caller_status="unknown",
    chosen_pass=None,
    window="closed",
    target="closed-hours",
    queue=None,
    queue_priority=None,
    reason="no pass, outside coordinator hours",
    arrived_at=None,
    decided_at=T0 + timedelta(minutes=5),
    latency_ms=0.9,
)
FAILSAFE = CallRecordData(
    channel="PJSIP/trunk-00000003",
    uniqueid="1741999999.9",
    linkedid="1741999999.9",
    caller_id="0698765432",
    account_number=None,
    caller_status="failsafe",
    chosen_pass=None,
    window="coordinators",
    target="coordinators-queue",
    queue="coordinators",
    queue_priority=0,
    reason="queued by the dialplan's fail-safe",
    arrived_at=None,
    decided_at=T0 + timedelta(minutes=9),
    latency_ms=5000.0,
    failsafe=True,
    redirected=False,
)


async def test_records_come_back_as_stored_newest_first(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with database_sessions.begin() as session:
        await add_call_records(session, [QUEUED])
        await add_call_records(session, [CLOSED])

    async with database_sessions() as session:
        assert await recent_call_records(session) == [CLOSED, QUEUED]
        assert await recent_call_records(session, limit=1) == [CLOSED]


async def test_the_limit_keeps_the_latest(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with database_sessions.begin() as session:
        for minute in range(5):
            await add_call_records(
                session, [replace(CLOSED, decided_at=T0 + timedelta(minutes=minute))]
            )
    async with database_sessions() as session:
        latest = await recent_call_records(session, limit=3)
    assert [r.decided_at for r in latest] == [T0 + timedelta(minutes=m) for m in (4, 3, 2)]


async def test_a_batch_is_stored_in_one_statement_in_order(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    batch = [replace(QUEUED, uniqueid=f"1741.{n}", latency_ms=float(n)) for n in range(50)]
    async with database_sessions.begin() as session:
        await add_call_records(session, batch)
    async with database_sessions() as session:
        stored = await recent_call_records(session, limit=100)
    # Same decision instant: newest first means last inserted first.
    assert stored == list(reversed(batch))


async def test_a_nonpositive_limit_is_refused(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with database_sessions() as session:
        with pytest.raises(ValueError, match="limit must be at least 1"):
            await recent_call_records(session, limit=0)


async def test_failsafe_flags_the_latest_decision_of_the_channel(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    first_try = replace(QUEUED, caller_status="wrong-pin", target="pin-retry", queue=None)
    second_try = replace(QUEUED, decided_at=QUEUED.decided_at + timedelta(seconds=20))
    async with database_sessions.begin() as session:
        await add_call_records(session, [first_try])
        await add_call_records(session, [second_try])
        await add_call_records(session, [CLOSED])

    async with database_sessions.begin() as session:
        await record_failsafe(session, replace(FAILSAFE, uniqueid=QUEUED.uniqueid))

    async with database_sessions() as session:
        records = await recent_call_records(session)
    assert records == [CLOSED, replace(second_try, failsafe=True), first_try]


async def test_a_failsafe_for_a_call_never_decided_is_recorded_as_such(
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with database_sessions.begin() as session:
        await add_call_records(session, [CLOSED])
        await record_failsafe(session, FAILSAFE)

    async with database_sessions() as session:
        assert await recent_call_records(session) == [FAILSAFE, CLOSED]


def test_an_unknown_pass_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown pass 'gold'"):
        replace(CLOSED, chosen_pass="gold")


def test_records_render_as_json_ready_dicts() -> None:
    rendered = QUEUED.to_dict()
    assert rendered["chosen_pass"] == "prioritaire"
    assert rendered["arrived_at"] == "2025-03-03T09:00:00+00:00"
    assert rendered["decided_at"] == "2025-03-03T09:00:00.003000+00:00"
    assert CLOSED.to_dict()["arrived_at"] is None
    assert json.loads(json.dumps(rendered))["queue_priority"] == 10
