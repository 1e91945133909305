"""The router at work, with the PBX, the directory and the wallet replaced by fakes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callrouter.ami.errors import AMIActionError
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.errors import CallrouterError
from callrouter.passes import Pass
from callrouter.routing.billing import ChargeKind, EmergencyCharge, PendingCallHold
from callrouter.routing.decision import Caller, CallerStatus, QueueLoad, RoutingPolicy, Target
from callrouter.routing.service import (
    HotlineFailsafe,
    IdentifiedCaller,
    RoutedCall,
    Router,
    StoreSink,
    parse_hotline_call,
)

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
CHANNEL = "Local/0612345678@hotline-00000000;2"


def hotline_call(
    *,
    caller: str = "0612345678",
    account: str = "",
    pin: str = "",
    pass_digit: str = "1",
    attempt: str = "1",
    uniqueid: str = "1795433938.1",
) -> Message:
    # The channel snapshot, then the custom headers, as the dialplan's UserEvent sends them.
    return Message.event(
        "UserEvent",
        [
            ("Privilege", "user,all"),
            ("Channel", CHANNEL),
            ("CallerIDNum", caller),
            ("Uniqueid", uniqueid),
            ("Linkedid", "1795433938.0"),
            ("UserEvent", "HotlineCall"),
            ("Caller", caller),
            ("CallerName", "Jean Dupont"),
            ("HotlineDID", "0800100200"),
            ("Arrival", "1795433938"),
            ("Account", account),
            ("Pin", pin),
            ("Pass", pass_digit),
            ("Attempt", attempt),
        ],
    )


class FakePBX:
    def __init__(self, *, fail: str | None = None) -> None:
        self.actions: list[tuple[str, dict[str, str]]] = []
        self._fail = fail

    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> list[Message | CallrouterError]:
        answers: list[Message | CallrouterError] = []
        for name, headers in actions:
            self.actions.append((name, dict(headers)))
            if name == self._fail:
                answers.append(
                    AMIActionError(
                        Message.response("Error", {"Message": f"Channel does not exist: {CHANNEL}"})
                    )
                )
            else:
                answers.append(Message.response("Success", {"Message": f"{name} done"}))
        return answers


class FakeDirectory:
    def __init__(self, callers: Mapping[str, Caller], *, balance: int, broken: bool) -> None:
        self._callers = callers
        self._balance = balance
        self._broken = broken

    async def identify(self, caller_id: str, account: str, pin: str) -> IdentifiedCaller:
        if self._broken:
            raise OSError("connection refused")
        if caller_id in self._callers:
            return IdentifiedCaller(self._callers[caller_id], self._balance)
        if account and pin == "1234":
            caller = Caller(status=CallerStatus.PIN_ACCEPTED, account_number=account)
            return IdentifiedCaller(caller, self._balance)
        if account or pin:
            return IdentifiedCaller(Caller(status=CallerStatus.WRONG_PIN))
        return IdentifiedCaller(Caller(status=CallerStatus.UNKNOWN))


class FakeWallet:
    """Prices as in the SPEC: 4H 35, Prioritaire 75, emergency 100 (Prioritaire only);
    emergency holds kept in memory against the balance."""

    def __init__(self, balance: int) -> None:
        self.balance = balance
        self.checks: list[tuple[Pass, bool]] = []
        self.held: dict[str, int] = {}
        self.posted: list[str] = []
        self.voided: list[str] = []

    def price(self, chosen_pass: Pass, emergency: bool) -> int | None:
        self.checks.append((chosen_pass, emergency))
        if emergency:
            return 100 if chosen_pass is Pass.PRIORITY else None
        return {Pass.FOUR_HOURS: 35, Pass.APPOINTMENT: 50, Pass.PRIORITY: 75}[chosen_pass]

    async def hold_emergency(self, account_number: str, call: str) -> EmergencyCharge:
        price = self.price(Pass.PRIORITY, emergency=True)
        assert price is not None
        if self.balance - sum(self.held.values()) < price:
            return EmergencyCharge(ChargeKind.INSUFFICIENT)
        self.held[call] = price
        return EmergencyCharge(ChargeKind.HELD, hold_id=len(self.held))

    async def post_hold(self, call: str, detail: str) -> bool:
        if call not in self.held:
            return False
        self.balance -= self.held.pop(call)
        self.posted.append(call)
        return True

    async def void_hold(self, call: str, reason: str) -> bool:
        if self.held.pop(call, None) is None:
            return False
        self.voided.append(call)
        return True

    async def pending_holds(self) -> Sequence[PendingCallHold]:
        return []


JEAN = Caller(status=CallerStatus.RECOGNISED, account_number="40000001", beneficiary="Jean Dupont")


class Harness:
    def __init__(
        self,
        *,
        at: datetime = TUESDAY_10H,
        pbx: FakePBX | None = None,
        balance: int = 500,
        directory_down: bool = False,
        store_first: StoreSink | None = None,
        store_wait: float = 1.0,
        read_at: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.pbx = pbx or FakePBX()
        self.directory = FakeDirectory({"0612345678": JEAN}, balance=balance, broken=directory_down)
        self.wallet = FakeWallet(balance)
        self.records: list[RoutedCall] = []
        self.failsafes: list[HotlineFailsafe] = []
        self.router = Router(
            pbx=self.pbx,
            directory=self.directory,
            wallet=self.wallet,
            calendar=HotlineCalendar.default(),
            policy=RoutingPolicy(),
            clock=FakeClock(at),
            queue_loads=lambda: {
                "coordinators": QueueLoad(members=2, available=1, waiting=0),
                "oncall": QueueLoad(members=1, available=1, waiting=0),
            },
            record=self._record,
            record_failsafe=self._record_failsafe,
            store_first=store_first,
            store_wait=store_wait,
            read_at=read_at,
        )

    async def _record(self, routed: RoutedCall) -> None:
        self.records.append(routed)

    async def _record_failsafe(self, failsafe: HotlineFailsafe) -> None:
        self.failsafes.append(failsafe)

    async def route(self, *events: Message) -> list[RoutedCall]:
        for event in events:
            self.router.on_event(event)
        await self.router.wait_idle()
        return self.records


async def test_known_daytime_caller_is_queued_to_coordinators_with_setvar_then_redirect() -> None:
    harness = Harness()
    [routed] = await harness.route(hotline_call(pass_digit="1"))
    assert routed.decision.target is Target.COORDINATORS_QUEUE
    assert routed.redirected
    names = [name for name, _ in harness.pbx.actions]
    assert names[-1] == "Redirect"
    assert set(names[:-1]) == {"Setvar"}
    redirect = harness.pbx.actions[-1][1]
    assert redirect == {
        "Channel": CHANNEL,
        "Context": "queue-coordinators",
        "Exten": "s",
        "Priority": "1",
    }
    variables = {h["Variable"]: h["Value"] for n, h in harness.pbx.actions if n == "Setvar"}
    assert variables["QUEUE_PRIO"] == "0"
    assert all(h["Channel"] == CHANNEL for _, h in harness.pbx.actions)


async def test_prioritaire_caller_gets_the_highest_priority() -> None:
    harness = Harness()
    [routed] = await harness.route(hotline_call(pass_digit="3"))
    variables = {h["Variable"]: h["Value"] for n, h in harness.pbx.actions if n == "Setvar"}
    assert routed.chosen_pass is Pass.PRIORITY
    assert int(variables["QUEUE_PRIO"]) > 0


async def test_night_prioritaire_goes_on_call_with_the_emergency_price_held() -> None:
    harness = Harness(at=TUESDAY_22H)
    [routed] = await harness.route(hotline_call(pass_digit="3"))
    assert routed.decision.target is Target.ONCALL_QUEUE
    assert harness.pbx.actions[-1][1]["Context"] == "queue-oncall"
    assert harness.wallet.checks == [(Pass.PRIORITY, True)]
    # Held, not debited: the incident opens when a technician confirms.
    assert harness.wallet.held == {"1795433938.1": 100}
    assert harness.wallet.balance == 500
    variables = {h["Variable"]: h["Value"] for n, h in harness.pbx.actions if n == "Setvar"}
    assert variables["HOTLINE_HOLD"] == "1"


async def test_night_prioritaire_who_cannot_pay_hears_the_balance_message() -> None:
    harness = Harness(at=TUESDAY_22H, balance=99)
    [routed] = await harness.route(hotline_call(pass_digit="3"))
    assert routed.decision.target is Target.INSUFFICIENT_BALANCE_MESSAGE
    assert routed.caller.can_pay is False
    assert harness.wallet.held == {}
    assert harness.pbx.actions[-1][1]["Context"] == "hotline-message"


async def test_daytime_caller_who_cannot_pay_still_reaches_a_coordinator_with_the_reason() -> None:
    harness = Harness(balance=74)
    [routed] = await harness.route(hotline_call(pass_digit="3"))
    assert routed.decision.target is Target.COORDINATORS_QUEUE
    assert "insufficient" in routed.decision.reason
    variables = {h["Variable"]: h["Value"] for n, h in harness.pbx.actions if n == "Setvar"}
    assert variables["QUEUE_PRIO"] == "0"


async def test_the_price_of_the_chosen_pass_is_what_the_balance_must_cover() -> None:
    harness = Harness(balance=35)
    [four_hours] = await harness.route(hotline_call(pass_digit="1", uniqueid="1.1"))
    assert four_hours.caller.can_pay is True
    assert four_hours.decision.queue_priority == 0
    harness = Harness(balance=35)
    [priority] = await harness.route(hotline_call(pass_digit="3", uniqueid="1.2"))
    assert priority.caller.can_pay is False
    assert "insufficient" in priority.decision.reason


async def test_with_the_database_away_the_router_leaves_the_caller_to_the_failsafe() -> None:
    harness = Harness(directory_down=True)
    records = await harness.route(hotline_call(pass_digit="1"))
    assert records == []
    assert harness.pbx.actions == []


async def test_night_4h_caller_hears_closed_hours_without_a_balance_check() -> None:
    harness = Harness(at=TUESDAY_22H)
    [routed] = await harness.route(hotline_call(pass_digit="1"))
    assert routed.decision.target is Target.CLOSED_MESSAGE
    assert harness.wallet.checks == []
    variables = {h["Variable"]: h["Value"] for n, h in harness.pbx.actions if n == "Setvar"}
    assert variables["HOTLINE_MESSAGE"] == "callrouter/closed-hours"
    # The next opening is Wednesday 08:00 in Paris.
    opens = datetime.fromtimestamp(int(variables["HOTLINE_OPENS_AT"]), PARIS)
    assert (opens.weekday(), opens.hour, opens.minute) == (2, 8, 0)


async def test_wrong_pin_retries_then_refuses_on_the_third_attempt() -> None:
    harness = Harness()
    await harness.route(
        hotline_call(caller="0700000000", account="40000001", pin="9999", attempt="1"),
        hotline_call(caller="0700000000", account="40000001", pin="9999", attempt="3"),
    )
    targets = [record.decision.target for record in harness.records]
    assert targets == [Target.PIN_RETRY, Target.REFUSAL_MESSAGE]


async def test_unknown_caller_is_refused() -> None:
    harness = Harness()
    [routed] = await harness.route(hotline_call(caller="0799999999"))
    assert routed.decision.target is Target.REFUSAL_MESSAGE
    assert harness.pbx.actions[-1][1]["Context"] == "hotline-message"


async def test_the_same_event_seen_twice_is_routed_once() -> None:
    harness = Harness()
    event = hotline_call()
    records = await harness.route(event, event)
    assert len(records) == 1
    assert [name for name, _ in harness.pbx.actions].count("Redirect") == 1


async def test_a_caller_who_hung_up_meanwhile_is_recorded_as_not_redirected() -> None:
    harness = Harness(pbx=FakePBX(fail="Redirect"))
    [routed] = await harness.route(hotline_call())
    assert not routed.redirected
    assert routed.error is not None and "Channel does not exist" in routed.error


async def test_a_failsafe_reported_by_the_dialplan_is_recorded() -> None:
    harness = Harness()
    failsafe = Message.event(
        "UserEvent",
        {
            "Channel": CHANNEL,
            "CallerIDNum": "0612345678",
            "Uniqueid": "1795433938.1",
            "Linkedid": "1795433938.0",
            "UserEvent": "HotlineFailsafe",
            "Caller": "0612345678",
            "Waited": "5",
        },
    )
    await harness.route(failsafe)
    # Everything a record needs when the router never decided for this call.
    assert harness.failsafes == [
        HotlineFailsafe(CHANNEL, "1795433938.1", "1795433938.0", "0612345678", waited=5)
    ]
    assert harness.pbx.actions == []


async def test_other_events_are_ignored() -> None:
    harness = Harness()
    await harness.route(
        Message.event("Newchannel", {"Channel": CHANNEL}),
        Message.event("UserEvent", {"UserEvent": "RouterHeartbeat", "Channel": CHANNEL}),
    )
    assert harness.records == []
    assert harness.pbx.actions == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Attempt": "x", "Arrival": "soon"}, (1, None)),
        ({"Attempt": "", "Arrival": ""}, (1, None)),
        ({"Attempt": "2", "Arrival": "1795433938"}, (2, datetime.fromtimestamp(1795433938, PARIS))),
    ],
)
def test_garbled_contract_headers_get_safe_defaults(
    headers: dict[str, str], expected: tuple[int, datetime | None]
) -> None:
    event = Message.event("UserEvent", {"UserEvent": "HotlineCall", "Channel": CHANNEL, **headers})
    call = parse_hotline_call(event)
    assert (call.attempt, call.arrived_at) == expected
    assert call.caller_id == "" and call.pass_digit == ""


class AnsweringLaterPBX(FakePBX):
    """Writes at once (as the AMI client does) and answers a turn of the loop later."""

    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> list[Message | CallrouterError]:
        written = await super().send_actions(actions, timeout=timeout)
        await asyncio.sleep(0)
        return written


async def test_settle_waits_for_the_calls_under_way_and_their_records() -> None:
    # Reconciliation after a login reads the records once these are handed over.
    harness = Harness(pbx=AnsweringLaterPBX())
    harness.router.on_event(hotline_call(uniqueid="1.1"))
    harness.router.on_event(hotline_call(uniqueid="1.2"))
    assert harness.records == []
    await harness.router.settle()
    assert sorted(r.call.uniqueid for r in harness.records) == ["1.1", "1.2"]


async def test_a_call_taken_urgently_then_in_order_is_routed_once() -> None:
    # The AMI client hands a HotlineCall out urgently, then in order with the rest.
    harness = Harness()
    event = hotline_call()
    harness.router.take_call(event)
    harness.router.on_event(event)
    await harness.router.wait_idle()
    assert [name for name, _ in harness.pbx.actions].count("Redirect") == 1
    assert len(harness.records) == 1


async def test_the_latency_counts_from_when_the_event_was_read() -> None:
    # The AMI client read the HotlineCall's bytes 40 ms ago (events before it in the same
    # read were handed out meanwhile): the caller waited that long too.
    harness = Harness(read_at=lambda: time.perf_counter() - 0.040)
    [routed] = await harness.route(hotline_call())
    assert 40.0 <= routed.latency_ms < 1000.0


async def test_a_known_callers_redirect_is_written_before_the_event_handler_returns() -> None:
    # Not after the rest of what the AMI reader holds (up to 64 events, ~2 ms at 400
    # calls/s), nor after the tasks queued before it: no turn of the loop in between.
    harness = Harness(pbx=AnsweringLaterPBX())
    harness.router.on_event(hotline_call())
    assert [name for name, _ in harness.pbx.actions] == ["Setvar", "Setvar", "Redirect"]
    assert harness.records == []  # the PBX's answer and the record come after
    await harness.router.wait_idle()
    assert [r.redirected for r in harness.records] == [True]
