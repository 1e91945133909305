"""Emergency holds on both databases: held points are not spendable, a hold moves once,
a further call of the night joins the incident, racing emergencies never overdraw."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.identity.models import Account
from callrouter.ledger.errors import InsufficientBalance
from callrouter.ledger.hold_rules import AttachRule, HoldState
from callrouter.ledger.holds import HoldPlaced, JoinedIncident, UnknownHold
from callrouter.ledger.models import Incident, Movement
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass

from .conftest import MakeAccount

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
NIGHT = AttachRule(HotlineCalendar.default().on_call)
#: Every racing call must hold: none joins the incident a faster racer opened (the clock
#: stands still, so any window would take them in).
NO_ATTACH = AttachRule(HotlineCalendar.default().on_call, timedelta(0))
RACERS = 50


@pytest.fixture(autouse=True)
def at_night(clock: FakeClock) -> None:
    clock.set(TUESDAY_22H)


async def _held(sessions: async_sessionmaker[AsyncSession], account: str) -> int:
    async with sessions() as session:
        held = await session.scalar(select(Account.held).where(Account.number == account))
    assert held is not None
    return held


async def _movements_sum(sessions: async_sessionmaker[AsyncSession], account: str) -> int:
    async with sessions() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(Movement.amount), 0))
            .join(Account, Account.id == Movement.account_id)
            .where(Account.number == account)
        )
    return int(total or 0)


async def test_held_points_are_not_spendable_and_not_a_movement(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(130)

    placed = await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)

    assert isinstance(placed, HoldPlaced) and placed.available == 30
    assert await ledger.balance(account) == 130
    assert await _held(database_sessions, account) == 100
    # 35 points are on the balance but 100 of them are promised: a 4H incident is refused,
    # on the portable path and on PostgreSQL's one-statement path alike, and so is an
    # operator's adjustment.
    with pytest.raises(InsufficientBalance):
        await ledger.open_incident(
            account, level=AssistanceLevel.STANDARD, pass_=Pass.FOUR_HOURS, idempotency_key="k"
        )
    with pytest.raises(InsufficientBalance):
        await ledger.adjust(account, -31, reason="test", idempotency_key="adjust")
    with pytest.raises(InsufficientBalance):
        await ledger.holds.place(account, "1.2", amount=100, attach=NIGHT)
    assert await ledger.check() == [] and await ledger.check_holds() == []


async def test_the_database_refuses_more_held_than_the_balance(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)
    with pytest.raises(IntegrityError):
        async with database_sessions.begin() as session:
            await session.execute(
                update(Account).where(Account.number == account).values(balance=99)
            )


async def test_a_posted_hold_opens_the_emergency_incident_debited_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(300)
    await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)

    posted = await ledger.holds.post("1.1", detail="technician confirmed")
    again = await ledger.holds.post("1.1", detail="technician confirmed")
    late_void = await ledger.holds.void("1.1", reason="hang-up")

    assert posted.moved and posted.state is HoldState.POSTED and posted.incident_id
    assert not again.moved and again.incident_id == posted.incident_id
    assert not late_void.moved and late_void.state is HoldState.POSTED
    assert await ledger.balance(account) == 200
    assert await _held(database_sessions, account) == 0
    incident = await ledger.incident(posted.incident_id)
    assert incident.emergency and incident.debited == 100 and incident.opening_call == "1.1"
    assert await _movements_sum(database_sessions, account) == 200
    assert await ledger.check() == [] and await ledger.check_holds() == []


async def test_a_voided_hold_gives_the_points_back_and_opens_nothing(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)

    voided = await ledger.holds.void("1.1", reason="caller hung up")
    late_post = await ledger.holds.post("1.1", detail="technician confirmed")

    assert voided.moved and voided.state is HoldState.VOIDED
    assert not late_post.moved and late_post.incident_id is None
    assert await ledger.balance(account) == 100
    assert await _held(database_sessions, account) == 0
    async with database_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 0
    with pytest.raises(UnknownHold):
        await ledger.holds.void("9.9", reason="never held")


async def test_placing_the_same_call_again_holds_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(300)
    first = await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)
    again = await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)
    assert isinstance(first, HoldPlaced) and isinstance(again, HoldPlaced)
    assert again.replayed and again.hold_id == first.hold_id
    assert await _held(database_sessions, account) == 100


async def test_a_further_call_the_same_night_joins_the_incident_the_next_night_holds(
    ledger: LedgerService,
    make_account: MakeAccount,
    clock: FakeClock,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(100)
    await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)
    posted = await ledger.holds.post("1.1", detail="technician confirmed")

    # 03:00: the line dropped, the caller calls back; the balance is 0 and it costs nothing.
    clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=PARIS))
    joined = await ledger.holds.place(account, "2.1", amount=100, attach=NIGHT)
    replayed = await ledger.holds.place(account, "2.1", amount=100, attach=NIGHT)

    assert isinstance(joined, JoinedIncident) and joined.incident_id == posted.incident_id
    assert isinstance(replayed, JoinedIncident) and replayed.replayed
    assert await _held(database_sessions, account) == 0
    assert [event.call for event in (await ledger.incident(joined.incident_id)).events] == ["2.1"]
    # 08:00 ended the on-call stretch: the next night is a new emergency.
    clock.set(datetime(2026, 11, 25, 19, 0, tzinfo=PARIS))
    with pytest.raises(InsufficientBalance):
        await ledger.holds.place(account, "3.1", amount=100, attach=NIGHT)


async def test_a_configured_attach_window_replaces_the_end_of_the_stretch(
    ledger: LedgerService, make_account: MakeAccount, clock: FakeClock
) -> None:
    account = await make_account(200)
    one_hour = AttachRule(HotlineCalendar.default().on_call, timedelta(hours=1))
    await ledger.holds.place(account, "1.1", amount=100, attach=one_hour)
    await ledger.holds.post("1.1", detail="technician confirmed")
    clock.advance(timedelta(minutes=61))
    placed = await ledger.holds.place(account, "2.1", amount=100, attach=one_hour)
    assert isinstance(placed, HoldPlaced)


async def test_ledger_check_finds_held_points_that_are_not_the_pending_holds(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(300)
    await ledger.holds.place(account, "1.1", amount=100, attach=NIGHT)
    async with database_sessions.begin() as session:
        await session.execute(update(Account).where(Account.number == account).values(held=0))
    [wrong] = await ledger.check_holds()
    assert (wrong.account_number, wrong.held, wrong.pending_sum) == (account, 0, 100)


async def test_racing_emergencies_hold_and_post_only_what_the_account_can_pay(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """On PostgreSQL the race is real (pooled connections in parallel): 50 emergencies on
    an account that can pay 3, each confirmed as soon as its hold is placed, while more
    calls keep trying to hold."""
    account = await make_account(300)

    async def emergency(n: int) -> bool:
        call = f"race.{n}"
        try:
            await ledger.holds.place(account, call, amount=100, attach=NO_ATTACH)
        except InsufficientBalance:
            return False
        return (await ledger.holds.post(call, detail="technician confirmed")).moved

    results = await asyncio.gather(*(emergency(n) for n in range(RACERS)))

    # Exactly 3: a post moves the points from held to spent, leaving as much spendable.
    assert sum(results) == 3
    balance = await ledger.balance(account)
    assert balance == 300 - 100 * sum(results) >= 0
    assert await _movements_sum(database_sessions, account) == balance
    assert await _held(database_sessions, account) == 0
    assert await ledger.check() == [] and await ledger.check_holds() == []
    async with database_sessions() as session:
        negative = await session.scalar(
            text("SELECT count(*) FROM ledger_movements WHERE balance_after < 0")
        )
    assert negative == 0
