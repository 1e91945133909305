"""Booking, cancelling and moving appointments on both databases, with a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callrouter.appointments.errors import (
    AppointmentNotChangeable,
    SlotFull,
    SlotRefused,
)
from callrouter.appointments.queries import APPOINTMENTS, QUARTERS, AppointmentFilter
from callrouter.experts.errors import UnknownDomain
from callrouter.ledger.errors import IdempotencyKeyReused, InsufficientBalance
from callrouter.ledger.tables import INCIDENTS

from .conftest import NOW, WEEK, Desk, paris, three_knx_experts

MONDAY_10 = paris(2025, 3, 10, 10, 0)
RDV_PRICE = 50


async def _count(desk: Desk, table: object) -> int:
    async with desk.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_a_booking_opens_the_incident_and_reserves_an_expert(desk: Desk) -> None:
    await three_knx_experts(desk)
    account = await desk.account(500)
    booked = await desk.book(account, MONDAY_10)
    view = booked.appointment
    assert (booked.debited, booked.balance, booked.replayed) == (RDV_PRICE, 450, False)
    assert view.state == "booked" and view.expert_name == "Expert 1"
    assert (view.start, view.end) == (MONDAY_10, MONDAY_10 + timedelta(minutes=30))
    assert view.number_to_call == "0612345678"
    incident = await desk.ledger.incident(view.incident_id)
    assert incident.chosen_pass.value == "rdv" and incident.debited == RDV_PRICE
    assert await _count(desk, QUARTERS) == 2
    # The same key again: the first booking, nothing more debited.
    again = await desk.book(account, MONDAY_10, key="k1")
    assert again.replayed and again.appointment.id == view.id
    assert await desk.balance(account) == 450
    with pytest.raises(IdempotencyKeyReused):
        await desk.book(account, MONDAY_10 + timedelta(hours=1), key="k1")
    # Replayed the day before the slot, when it could no longer be booked: still the first.
    desk.clock.set(MONDAY_10 - timedelta(days=1))
    assert (await desk.book(account, MONDAY_10, key="k1")).appointment.id == view.id


async def test_minimum_notice_at_its_exact_edge(desk: Desk) -> None:
    await three_knx_experts(desk)
    account = await desk.account()
    desk.clock.set(MONDAY_10 - WEEK + timedelta(seconds=1))
    with pytest.raises(SlotRefused) as refused:
        await desk.book(account, MONDAY_10)
    assert refused.value.code == "slot-too-soon"
    desk.clock.set(MONDAY_10 - WEEK)
    assert not (await desk.book(account, MONDAY_10)).replayed


async def test_a_slot_must_end_inside_the_window_and_fit_the_calendar(desk: Desk) -> None:
    await three_knx_experts(desk)
    account = await desk.account()
    refusals = {
        # 16:45 + 30 min ends at 17:15, after the window closes at 17:00: refused.
        paris(2025, 3, 10, 16, 45): "slot-outside-window",
        paris(2025, 3, 10, 7, 45): "slot-outside-window",
        paris(2025, 3, 15, 10, 0): "slot-outside-window",  # a Saturday
        paris(2025, 5, 1, 10, 0): "slot-outside-window",  # Labour Day, a Thursday
        paris(2025, 3, 10, 10, 10): "slot-not-aligned",
        NOW + timedelta(weeks=9): "slot-too-far",
    }
    for start, code in refusals.items():
        with pytest.raises(SlotRefused) as refused:
            await desk.book(account, start)
        assert refused.value.code == code, start
    # The last slot of the day ends at 17:00 exactly.
    assert (await desk.book(account, paris(2025, 3, 10, 16, 30))).appointment.state == "booked"
    assert await desk.balance(account) == 500 - RDV_PRICE


async def test_full_slot_unknown_domain_and_low_balance_change_nothing(desk: Desk) -> None:
    await three_knx_experts(desk)
    accounts = [await desk.account() for _ in range(4)]
    for account in accounts[:3]:
        await desk.book(account, MONDAY_10)
    with pytest.raises(SlotFull):
        await desk.book(accounts[3], MONDAY_10)
    # Overlapping by one quarter hour is full too; right after the slot is free.
    with pytest.raises(SlotFull):
        await desk.book(accounts[3], MONDAY_10 + timedelta(minutes=15))
    await desk.book(accounts[3], MONDAY_10 + timedelta(minutes=30))
    with pytest.raises(UnknownDomain):
        await desk.book(accounts[3], MONDAY_10, domain="plumbing")
    poor = await desk.account(10)
    with pytest.raises(InsufficientBalance):
        await desk.book(poor, MONDAY_10 + timedelta(hours=2))
    assert await desk.balance(poor) == 10
    assert await desk.balance(accounts[3]) == 500 - RDV_PRICE
    assert await _count(desk, INCIDENTS) == await _count(desk, APPOINTMENTS) == 4


async def test_capacity_drops_when_an_expert_is_absent(desk: Desk) -> None:
    await three_knx_experts(desk)
    before = await desk.appointments.availability("knx", MONDAY_10, MONDAY_10 + timedelta(hours=1))
    assert [slot.capacity for slot in before] == [3, 3, 3, 3]
    await desk.experts.absent(
        "Expert 2", MONDAY_10 + timedelta(minutes=40), MONDAY_10 + timedelta(hours=3), "formation"
    )
    account = await desk.account()
    await desk.book(account, MONDAY_10)
    after = await desk.appointments.availability("knx", MONDAY_10, MONDAY_10 + timedelta(hours=1))
    # Expert 1 is booked until 10:30; from 10:15 a slot runs into Expert 2's absence.
    assert [slot.free for slot in after] == [
        ("Expert 2", "Expert 3"),
        ("Expert 3",),
        ("Expert 1", "Expert 3"),
        ("Expert 1", "Expert 3"),
    ]


async def test_cancel_24_hours_before_refunds_in_full_later_not(desk: Desk) -> None:
    await three_knx_experts(desk)
    account = await desk.account(500)
    early = await desk.book(account, MONDAY_10)
    late = await desk.book(account, MONDAY_10 + timedelta(hours=1))
    desk.clock.set(MONDAY_10 - timedelta(hours=24))
    cancelled = await desk.appointments.cancel(early.appointment.id, "client indisponible")
    assert (cancelled.refunded, cancelled.appointment.state) == (RDV_PRICE, "cancelled")
    assert cancelled.appointment.cancel_refunded is True
    assert (await desk.appointments.cancel(early.appointment.id, "again")).replayed
    desk.clock.set(MONDAY_10 + timedelta(hours=1) - timedelta(hours=24) + timedelta(seconds=1))
    too_late = await desk.appointments.cancel(late.appointment.id, "")
    assert (too_late.refunded, too_late.appointment.cancel_refunded) == (0, False)
    assert await desk.balance(account) == 500 - RDV_PRICE
    # Both experts' time is free again.
    assert await _count(desk, QUARTERS) == 0


async def test_reschedule_keeps_the_expert_and_frees_the_old_slot(desk: Desk) -> None:
    await three_knx_experts(desk)
    account = await desk.account()
    booked = await desk.book(account, MONDAY_10)
    other = await desk.book(await desk.account(), MONDAY_10 + timedelta(hours=2))
    assert other.appointment.expert_name == "Expert 1"
    moved = await desk.appointments.reschedule(
        booked.appointment.id, MONDAY_10 + timedelta(hours=2)
    )
    # Expert 1 is taken at the new time: the next free expert is reserved.
    assert moved.expert_name == "Expert 2" and moved.start == MONDAY_10 + timedelta(hours=2)
    slots = await desk.appointments.availability("knx", MONDAY_10, MONDAY_10 + timedelta(minutes=1))
    assert slots[0].capacity == 3
    desk.clock.set(moved.start - timedelta(hours=23))
    with pytest.raises(AppointmentNotChangeable):
        await desk.appointments.reschedule(booked.appointment.id, MONDAY_10 + timedelta(days=8))
    listed = await desk.appointments.find(AppointmentFilter(account_number=account))
    assert [view.id for view in listed] == [booked.appointment.id]
