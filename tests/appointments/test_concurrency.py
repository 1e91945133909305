"""On PostgreSQL, many coordinators booking the same slot at once: the database, not a
check, keeps one booking per expert; the losers are refused clearly and debited nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from callrouter.appointments.errors import SlotFull
from callrouter.appointments.queries import APPOINTMENTS
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine
from callrouter.ledger.tables import INCIDENTS, MOVEMENTS

from .conftest import Desk, build_desk, paris, three_knx_experts

SLOT = paris(2025, 3, 10, 10, 0)
BOOKINGS = 50


@pytest.fixture
async def postgres_desk(migrated_postgres_url: str, clock: FakeClock) -> AsyncIterator[Desk]:
    from tests.conftest import _empty_every_table

    await _empty_every_table(migrated_postgres_url)
    engine = create_engine(migrated_postgres_url)
    try:
        yield build_desk(engine, clock)
    finally:
        await engine.dispose()


async def test_fifty_bookings_for_three_experts(postgres_desk: Desk) -> None:
    desk = postgres_desk
    await three_knx_experts(desk)
    accounts = [await desk.account(100, f"Client {index}") for index in range(BOOKINGS)]
    results = await asyncio.gather(
        *(desk.book(account, SLOT, key=f"race-{i}") for i, account in enumerate(accounts)),
        return_exceptions=True,
    )
    booked = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(booked) == 3
    assert len(refused) == BOOKINGS - 3 and all(isinstance(r, SlotFull) for r in refused)
    assert sorted(b.appointment.expert_name for b in booked) == ["Expert 1", "Expert 2", "Expert 3"]
    async with desk.engine.connect() as connection:
        incidents = (await connection.execute(select(func.count()).select_from(INCIDENTS))).scalar()
        appointments = (
            await connection.execute(select(func.count()).select_from(APPOINTMENTS))
        ).scalar()
        debits = (
            await connection.execute(
                select(func.count()).select_from(MOVEMENTS).where(MOVEMENTS.c.kind == "debit")
            )
        ).scalar()
    assert incidents == appointments == debits == 3
    balances = sorted([await desk.balance(account) for account in accounts])
    assert balances == [50, 50, 50] + [100] * (BOOKINGS - 3)


async def test_overlapping_slots_racing_for_one_expert(postgres_desk: Desk) -> None:
    desk = postgres_desk
    await desk.experts.add("Seule Experte", "PJSIP/expert1", ["knx"])
    accounts = [await desk.account(100, f"Client {index}") for index in range(12)]
    # 10:00, 10:15, ... 12:45: each 30-minute slot overlaps its neighbours by a quarter hour.
    starts = [SLOT + timedelta(minutes=15 * index) for index in range(12)]
    results = await asyncio.gather(
        *(
            desk.book(account, start, key=f"o-{index}")
            for index, (account, start) in enumerate(zip(accounts, starts, strict=True))
        ),
        return_exceptions=True,
    )
    booked = sorted(r.appointment.start for r in results if not isinstance(r, BaseException))
    assert all(isinstance(r, SlotFull) for r in results if isinstance(r, BaseException))
    assert booked and all(
        later - earlier >= timedelta(minutes=30) for earlier, later in pairwise(booked)
    )
    async with desk.engine.connect() as connection:
        debits = (
            await connection.execute(
                select(func.count()).select_from(MOVEMENTS).where(MOVEMENTS.c.kind == "debit")
            )
        ).scalar()
    assert debits == len(booked)


async def test_concurrent_cancellations_refund_once(postgres_desk: Desk) -> None:
    desk = postgres_desk
    await three_knx_experts(desk)
    account = await desk.account(100)
    booked = await desk.book(account, SLOT)
    results = await asyncio.gather(
        *(desk.appointments.cancel(booked.appointment.id, f"try {i}") for i in range(10))
    )
    assert sorted(result.refunded for result in results) == [0] * 9 + [50]
    assert sum(not result.replayed for result in results) == 1
    assert await desk.balance(account) == 100
