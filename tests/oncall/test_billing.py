"""Emergencies billed only when served (issue 10, item 3): the router on the real ledger,
on both databases, with the PBX replaced by a fake that answers or refuses the Redirect.

Each of these charged the caller on main, where the 100 points left at routing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.ami.errors import AMIActionError
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.errors import CallrouterError
from callrouter.identity.models import Account
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.models import Movement
from callrouter.ledger.service import LedgerService
from callrouter.routing.decision import Caller, CallerStatus, QueueLoad, RoutingPolicy, Target
from callrouter.routing.service import HotlineFailsafe, IdentifiedCaller, RoutedCall, Router
from callrouter.server.adapters import LedgerWallet

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)


class FakePBX:
    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, str]]] = []
        #: Channels whose Redirect the PBX refuses (the caller hung up meanwhile).
        self.gone: set[str] = set()

    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> list[Message | CallrouterError]:
        answers: list[Message | CallrouterError] = []
        for name, headers in actions:
            fields = dict(headers)
            self.actions.append((name, fields))
            if fields["Channel"] in self.gone:
                answers.append(
                    AMIActionError(Message.response("Error", {"Message": "Channel not found"}))
                )
            else:
                answers.append(Message.response("Success", {"Message": f"{name} done"}))
        return answers


class LedgerDirectory:
    """Every caller is a beneficiary of `account`; the balance is read like identity does."""

    def __init__(self, ledger: LedgerService, account: str) -> None:
        self._ledger = ledger
        self._account = account

    async def identify(self, caller_id: str, account: str, pin: str) -> IdentifiedCaller:
        caller = Caller(status=CallerStatus.RECOGNISED, account_number=self._account)
        return IdentifiedCaller(caller, await self._ledger.balance(self._account))


class Night:
    """A router at 22:00 on a Tuesday, on the real ledger, with one account."""

    def __init__(
        self, ledger: LedgerService, account: str, clock: FakeClock, *, members: int = 1
    ) -> None:
        self.ledger = ledger
        self.account = account
        self.clock = clock
        self.pbx = FakePBX()
        self.records: list[RoutedCall] = []
        calendar = HotlineCalendar.default()
        self.router = Router(
            pbx=self.pbx,
            directory=LedgerDirectory(ledger, account),
            wallet=LedgerWallet(ledger, calendar.on_call),
            calendar=calendar,
            policy=RoutingPolicy(),
            clock=clock,
            queue_loads=lambda: {"oncall": QueueLoad(members=members, available=1, waiting=0)},
            record=self._record,
            record_failsafe=self._failsafe,
        )

    async def _record(self, routed: RoutedCall) -> None:
        self.records.append(routed)

    async def _failsafe(self, failsafe: HotlineFailsafe) -> None:
        raise AssertionError(failsafe)

    async def events(self, *events: Message) -> None:
        for event in events:
            self.router.on_event(event)
        await self.router.wait_idle()

    async def balance(self) -> int:
        return await self.ledger.balance(self.account)


def channel(uniqueid: str) -> str:
    return f"Local/0612345678@hotline-{uniqueid.replace('.', '')};2"


def hotline_call(uniqueid: str) -> Message:
    return Message.event(
        "UserEvent",
        [
            ("Channel", channel(uniqueid)),
            ("Uniqueid", uniqueid),
            ("Linkedid", uniqueid),
            ("UserEvent", "HotlineCall"),
            ("Caller", "0612345678"),
            ("Pass", "3"),
            ("Attempt", "1"),
        ],
    )


def confirmed(uniqueid: str, hold: str) -> Message:
    """The dialplan's UserEvent when a technician pressed the confirmation key."""
    return Message.event(
        "UserEvent",
        [
            ("Channel", channel(uniqueid)),
            ("Uniqueid", uniqueid),
            ("UserEvent", "OnCallConfirmed"),
            ("CallerUniqueid", uniqueid),
            ("Hold", hold),
            ("Technician", "Local/agent5@agents"),
        ],
    )


def hangup(uniqueid: str) -> Message:
    return Message.event(
        "Hangup", [("Channel", channel(uniqueid)), ("Uniqueid", uniqueid), ("Cause", "16")]
    )


def hold_of(night: Night, uniqueid: str) -> str:
    values = [
        fields["Value"]
        for name, fields in night.pbx.actions
        if name == "Setvar"
        and fields["Channel"] == channel(uniqueid)
        and fields["Variable"] == "HOTLINE_HOLD"
    ]
    assert len(values) == 1, night.pbx.actions
    return values[0]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY_22H)


@pytest.fixture
def ledger(database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> LedgerService:
    return LedgerService(database_sessions, clock, LedgerConfig())


async def account_with(
    ledger: LedgerService, sessions: async_sessionmaker[AsyncSession], points: int
) -> str:
    number = str(secrets.randbelow(90_000_000) + 10_000_000)
    async with sessions.begin() as session:
        await session.execute(
            insert(Account).values(
                number=number,
                holder_name="Claire Lefèvre",
                pin_hash="-",
                web_code_hash="-",
                created_at=TUESDAY_22H,
            )
        )
    await ledger.credit(number, points, reason="test", idempotency_key=f"test:{number}")
    return number


@pytest.fixture
async def night(
    ledger: LedgerService, database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> Night:
    return Night(ledger, await account_with(ledger, database_sessions, 300), clock)


async def test_a_dropped_and_redialled_emergency_is_charged_once(night: Night) -> None:
    await night.events(hotline_call("1.1"))
    await night.events(confirmed("1.1", hold_of(night, "1.1")))
    await night.events(hangup("1.1"))  # the line drops during the call
    night.clock.advance(timedelta(minutes=5))
    await night.events(hotline_call("2.1"))
    # The redial sets no hold: the technician's confirmation carries an empty one.
    await night.events(confirmed("2.1", ""), hangup("2.1"))

    first, second = night.records
    assert first.decision.target is second.decision.target is Target.ONCALL_QUEUE
    assert "joins incident" in second.decision.reason
    assert await night.balance() == 200
    assert await night.ledger.check() == [] and await night.ledger.check_holds() == []


async def test_a_caller_who_hangs_up_before_anyone_confirms_is_charged_nothing(
    night: Night,
) -> None:
    await night.events(hotline_call("1.1"))
    assert night.records[0].decision.target is Target.ONCALL_QUEUE
    night.clock.advance(timedelta(minutes=3))
    await night.events(hangup("1.1"))
    # A confirmation arriving after the hang-up (a late event) changes nothing.
    await night.events(confirmed("1.1", hold_of(night, "1.1")))
    assert await night.balance() == 300
    assert night.router.billing is not None and night.router.billing.pending_calls == set()
    assert await night.ledger.check_holds() == []


async def test_queued_into_an_empty_rota_is_charged_nothing(
    ledger: LedgerService, database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    night = Night(ledger, await account_with(ledger, database_sessions, 300), clock, members=0)
    await night.events(hotline_call("1.1"))
    assert "has no member" in night.records[0].decision.reason
    # Nobody ever confirms; the caller leaves the queue (voicemail offered by the dialplan).
    await night.events(
        Message.event(
            "QueueCallerAbandon",
            [("Channel", channel("1.1")), ("Uniqueid", "1.1"), ("Queue", "oncall")],
        ),
        hangup("1.1"),
    )
    assert await night.balance() == 300


async def test_a_redirect_the_pbx_refuses_is_charged_nothing(night: Night) -> None:
    night.pbx.gone.add(channel("1.1"))
    await night.events(hotline_call("1.1"))
    assert not night.records[0].redirected
    assert await night.balance() == 300
    assert await night.ledger.check_holds() == []
    assert await night.ledger.holds.pending() == []


async def test_two_simultaneous_callers_with_points_for_one(
    ledger: LedgerService, database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    night = Night(ledger, await account_with(ledger, database_sessions, 100), clock)
    await night.events(hotline_call("1.1"), hotline_call("1.2"))

    served = [r for r in night.records if r.decision.target is Target.ONCALL_QUEUE]
    told = [r for r in night.records if r.decision.target is Target.INSUFFICIENT_BALANCE_MESSAGE]
    assert len(served) == len(told) == 1
    assert told[0].decision.message_fr is not None
    assert "ne permet pas" in told[0].decision.message_fr
    uniqueid = served[0].call.uniqueid
    await night.events(confirmed(uniqueid, hold_of(night, uniqueid)))
    assert await night.balance() == 0


async def test_racing_emergencies_through_the_router_never_overdraw(
    ledger: LedgerService, database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """50 night emergencies at once on an account that can pay 3 (on PostgreSQL the
    holds race on pooled connections), each confirmed as soon as routed."""
    night = Night(ledger, await account_with(ledger, database_sessions, 300), clock)
    calls = [f"9.{n}" for n in range(50)]
    await night.events(*(hotline_call(call) for call in calls))
    held = [r.call.uniqueid for r in night.records if r.decision.target is Target.ONCALL_QUEUE]
    await asyncio.gather(*(night.events(confirmed(c, hold_of(night, c))) for c in held))

    assert len(held) == 3
    balance = await night.balance()
    assert balance == 0
    async with database_sessions() as session:
        total = await session.scalar(
            select(func.sum(Movement.amount))
            .join(Account, Account.id == Movement.account_id)
            .where(Account.number == night.account)
        )
        lowest = await session.scalar(select(func.min(Movement.balance_after)))
    assert total == balance and lowest is not None and lowest >= 0
    assert await ledger.check() == [] and await ledger.check_holds() == []
