"""Exactly once across processes sharing one PostgreSQL (and one SQLite file where it
applies): claims, the lead, deadline firings."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.callbacks import store
from callrouter.callbacks.alerts import AlertKind
from callrouter.callbacks.leader import LOCK_KEY

from .conftest import Desk, expert


@pytest.fixture
def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("what PostgreSQL's locks guarantee between processes")


async def _two_hundred_due(desk: Desk) -> None:
    desk.busy = {f"expert{n}" for n in range(200)}
    desk.experts = [expert(f"expert{n}") for n in range(200)]
    account = await desk.account(balance=200 * 35)
    for _ in range(200):
        await desk.open(account)
    desk.busy = set()


async def test_two_dispatchers_racing_dial_each_callback_once(
    desk: Desk,
    postgres_only: None,
    database_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No lead here: two engines, on two connection pools, both read the same 200 due
    callbacks and then claim them at the same time; the locked claim alone keeps each
    callback to one attempt."""
    await _two_hundred_due(desk)
    both_read = asyncio.Barrier(2)
    claim = store.claim

    async def claim_once_both_have_read(*args: Any) -> list[store.Claimed]:
        with contextlib.suppress(TimeoutError):
            # Later rounds find nothing to claim in one of them: do not wait for it forever.
            async with asyncio.timeout(1):
                await both_read.wait()
        return await claim(*args)

    monkeypatch.setattr(store, "claim", claim_once_both_have_read)
    other_pool = Desk(
        sessions=database_sessions,
        engine=database_sessions.kw["bind"],
        clock=desk.clock,
        ledger=desk.ledger,
        config=desk.config,
        experts=desk.experts,
        placer=desk.placer,
    )
    from callrouter.db.engine import create_engine

    second_engine = create_engine(desk.engine.url.render_as_string(hide_password=False))
    other_pool.engine = second_engine
    first, second = desk.new_engine(name="one"), other_pool.new_engine(name="two")
    try:
        for _ in range(3):
            await asyncio.gather(first.run_once(), second.run_once())
    finally:
        await second_engine.dispose()
    dialled = Counter(request.callback_id for request in desk.placer.placed)
    assert len(dialled) == 200
    assert set(dialled.values()) == {1}


async def test_one_dispatcher_leads_and_the_other_takes_over_when_it_stops(
    desk: Desk, postgres_only: None
) -> None:
    desk.config = desk.config.__class__(takeover_interval=timedelta(milliseconds=50))
    first, second = desk.new_dispatcher("one"), desk.new_dispatcher("two")
    first.start()
    await first.leading.wait()
    second.start()
    await asyncio.sleep(0.2)  # several takeover intervals: it must still stand by
    assert not second.leading.is_set()
    await first.close()
    async with asyncio.timeout(5):
        await second.leading.wait()
    await second.close()


async def test_fifty_deadline_firings_refund_once(desk: Desk, postgres_only: None) -> None:
    desk.busy = {"chloe", "david"}
    incident, callback_id = await desk.open()
    desk.advance(timedelta(hours=4))
    engines = [desk.new_engine(name=f"firing{n}") for n in range(50)]
    done = await asyncio.gather(*(engine.breach(callback_id) for engine in engines))
    assert sum(done) == 1
    assert await desk.refunds(incident) == 1
    assert [alert.kind for alert in desk.alerts] == [AlertKind.BREACHED]


async def test_deadline_firings_on_one_process_refund_once(desk: Desk) -> None:
    incident, callback_id = await desk.open()
    desk.advance(timedelta(hours=4))
    engine = desk.new_engine()
    done = await asyncio.gather(*(engine.breach(callback_id) for _ in range(10)))
    assert sum(done) == 1
    assert await desk.refunds(incident) == 1


async def test_a_leader_whose_connection_dies_steps_down_and_the_standby_takes_over(
    desk: Desk, postgres_only: None
) -> None:
    desk.config = desk.config.__class__(
        takeover_interval=timedelta(milliseconds=50), sweep_interval=timedelta(milliseconds=50)
    )
    first, second = desk.new_dispatcher("one"), desk.new_dispatcher("two")
    first.start()
    await first.leading.wait()
    second.start()
    # The leader's lock connection is killed (its host vanished, say): the lock goes with it.
    async with desk.engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND granted AND objid = :low AND classid = :high AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"low": LOCK_KEY & 0xFFFFFFFF, "high": LOCK_KEY >> 32},
        )
    try:
        async with asyncio.timeout(5):
            await second.leading.wait()
            while first.leading.is_set():
                await asyncio.sleep(0.01)
    finally:
        await first.close()
        await second.close()
