"""Holds after a restart or a reconnect: resolved from the channel list of the login, in the
order of their events otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.routing.billing import (
    ChargeKind,
    EmergencyBilling,
    EmergencyCharge,
    PendingCallHold,
)

PARIS = ZoneInfo("Europe/Paris")
NIGHT = datetime(2026, 11, 24, 23, 0, tzinfo=PARIS)


class Wallet:
    def __init__(self, pending: dict[str, datetime]) -> None:
        self.pending = dict(pending)
        self.moves: list[tuple[str, str]] = []

    async def hold_emergency(self, account_number: str, call: str) -> EmergencyCharge:
        self.pending[call] = NIGHT
        return EmergencyCharge(ChargeKind.HELD, hold_id=len(self.pending))

    async def post_hold(self, call: str, detail: str) -> bool:
        self.moves.append(("post", call))
        return self.pending.pop(call, None) is not None

    async def void_hold(self, call: str, reason: str) -> bool:
        self.moves.append(("void", call))
        return self.pending.pop(call, None) is not None

    async def pending_holds(self) -> Sequence[PendingCallHold]:
        return [PendingCallHold(call, at) for call, at in self.pending.items()]


def channel(uniqueid: str, context: str, bridge: str = "") -> Message:
    return Message.event(
        "CoreShowChannel",
        [
            ("Channel", f"Local/06@hotline-{uniqueid};2"),
            ("Uniqueid", uniqueid),
            ("Context", context),
            ("CallerIDNum", "0611111111"),
            ("BridgeId", bridge),
            ("Application", "Queue"),
            ("Duration", "00:05:00"),
        ],
    )


def billing(wallet: Wallet, clock: FakeClock) -> EmergencyBilling:
    return EmergencyBilling(wallet, clock, max_hold_age=timedelta(hours=4), oncall_queue="oncall")


async def test_holds_left_by_a_crash_follow_the_pbx_at_the_next_login() -> None:
    placed = NIGHT - timedelta(minutes=10)
    wallet = Wallet({"waiting": placed, "bridged": placed, "gone": placed, "failsafe": placed})
    clock = FakeClock(NIGHT)
    subject = billing(wallet, clock)

    await subject.resolver()(
        [
            channel("waiting", "queue-oncall"),
            channel("bridged", "queue-oncall", bridge="b-1"),
            # The fail-safe queued this one to the coordinators: on-call will not serve it.
            channel("failsafe", "queue-coordinators"),
        ]
    )

    assert sorted(wallet.moves) == [("post", "bridged"), ("void", "failsafe"), ("void", "gone")]
    assert list(wallet.pending) == ["waiting"] and subject.pending_calls == {"waiting"}
    # The kept hold is voided by its caller's hang-up like any other.
    subject.on_event(Message.event("Hangup", [("Uniqueid", "waiting"), ("Cause", "16")]))
    await subject.wait_idle()
    assert "waiting" not in wallet.pending


async def test_the_safety_net_voids_a_hold_past_the_maximum_age_only() -> None:
    wallet = Wallet({"young": NIGHT - timedelta(hours=1), "old": NIGHT - timedelta(hours=4)})
    subject = billing(wallet, FakeClock(NIGHT))
    await subject.sweep()
    assert wallet.moves == [("void", "old")]
    assert list(wallet.pending) == ["young"]


async def test_a_hang_up_after_the_confirmation_never_overtakes_it() -> None:
    wallet = Wallet({})
    subject = billing(wallet, FakeClock(NIGHT))
    await subject.hold("40000001", "1.1")
    subject.on_event(
        Message.event(
            "UserEvent",
            [("UserEvent", "OnCallConfirmed"), ("CallerUniqueid", "1.1"), ("Hold", "1")],
        )
    )
    subject.on_event(Message.event("Hangup", [("Uniqueid", "1.1"), ("Cause", "16")]))
    await subject.wait_idle()
    assert wallet.moves == [("post", "1.1")]


async def test_a_hang_up_of_a_call_without_a_hold_costs_no_database_trip() -> None:
    wallet = Wallet({})
    subject = billing(wallet, FakeClock(NIGHT))
    subject.on_event(Message.event("Hangup", [("Uniqueid", "7.7"), ("Cause", "16")]))
    await subject.wait_idle()
    assert wallet.moves == []


async def test_the_failsafe_of_a_held_call_voids_its_hold() -> None:
    # The Redirect was lost without the link dropping (a timeout): the dialplan queued the
    # caller to the coordinators, who will not open an emergency for it.
    wallet = Wallet({})
    subject = billing(wallet, FakeClock(NIGHT))
    await subject.hold("40000001", "1.1")
    subject.on_event(
        Message.event("UserEvent", [("UserEvent", "HotlineFailsafe"), ("Uniqueid", "1.1")])
    )
    await subject.wait_idle()
    assert wallet.moves == [("void", "1.1")]


async def test_a_caller_still_waiting_for_the_redirect_keeps_the_hold() -> None:
    # Listed in the hold context (the Redirect was on its way when the list was read).
    wallet = Wallet({"1.1": NIGHT})
    subject = billing(wallet, FakeClock(NIGHT))
    await subject.resolver()([channel("1.1", "hotline-hold")])
    assert wallet.moves == [] and subject.pending_calls == {"1.1"}


async def test_a_hold_placed_after_the_login_is_left_to_its_events() -> None:
    wallet = Wallet({})
    subject = billing(wallet, FakeClock(NIGHT))
    resolve = subject.resolver()
    # A new call routed between the login and the reading of the channel list.
    await subject.hold("40000001", "2.1")
    await resolve([])
    assert wallet.moves == [] and subject.pending_calls == {"2.1"}
