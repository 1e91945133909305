"""The live state follows real Asterisk traces, and agrees with what QueueStatus says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState, QueueView

from .conftest import lab

Replay = Callable[[str, FakeClock], Iterator[Message]]
QUEUE_STATUS_ITEMS = {"QueueParams", "QueueMember", "QueueEntry"}


def _without_waiting_times(view: QueueView, now: datetime) -> dict[str, Any]:
    snapshot = view.to_dict(now)
    snapshot.pop("longest_wait_seconds")
    for caller in snapshot["callers"]:
        for key in ("joined_at", "waiting_seconds"):
            caller.pop(key)
    return snapshot


def _assert_same_queue(from_events: QueueView, rebuilt: QueueView, clock: FakeClock) -> None:
    now = clock.now()
    assert _without_waiting_times(from_events, now) == _without_waiting_times(rebuilt, now)
    for event_caller, pbx_caller in zip(from_events.callers, rebuilt.callers, strict=True):
        # QueueEntry `Wait:` is whole seconds, truncated: the rebuilt wait may be up to 1 s short.
        gap = event_caller.waiting_seconds(now) - pbx_caller.waiting_seconds(now)
        assert 0 <= gap < 1.1


def test_trace_03_events_agree_with_each_queue_status(replay: Replay, clock: FakeClock) -> None:
    live = lab(clock)
    lists: dict[str | None, list[Message]] = {}
    compared: dict[str, QueueView] = {}
    for message in replay("03-priority-queue-experts", clock):
        if message.kind is MessageKind.EVENT and message.name in QUEUE_STATUS_ITEMS:
            lists.setdefault(message.action_id, []).append(message)
        elif message.name == "QueueStatusComplete":
            action_id = message.action_id
            assert action_id is not None
            rebuilt = LiveState(clock)
            rebuilt.rebuild(lists[action_id], [])
            pbx_experts = rebuilt.queue("experts")
            event_experts = live.queue("experts")
            assert pbx_experts is not None and event_experts is not None
            _assert_same_queue(event_experts, pbx_experts, clock)
            compared[action_id] = event_experts
        live.apply(message)

    assert list(compared) == ["a-010", "a-013", "a-015"]
    first = compared["a-010"]
    assert [(c.caller_name, c.position, c.priority) for c in first.callers] == [
        ("Bernard VIP", 1, 10),
        ("Anne Client", 2, 0),
    ]
    assert [(m.name, m.paused, m.paused_reason, m.in_call) for m in first.members] == [
        ("Chloe Bernard", True, "Briefing", False),
        ("David Moreau", True, "Briefing", False),
    ]
    second = compared["a-015"]
    assert [(c.caller_name, c.position) for c in second.callers] == [("Anne Client", 1)]
    chloe, david = second.members
    assert (chloe.name, chloe.in_call, chloe.paused, chloe.state) == (
        "Chloe Bernard",
        True,
        False,
        "in-use",
    )
    assert (david.in_call, david.paused) == (False, True)


def test_trace_03_ends_with_both_calls_served(replay: Replay, clock: FakeClock) -> None:
    live = lab(clock)
    for message in replay("03-priority-queue-experts", clock):
        live.apply(message)
    experts = live.queue("experts")
    assert experts is not None
    assert experts.callers == ()
    assert experts.completed == 2
    assert [(m.name, m.calls_taken, m.in_call, m.paused) for m in experts.members] == [
        ("Chloe Bernard", 2, False, False),
        ("David Moreau", 0, False, False),
    ]
    assert live.calls().calls == ()
    assert live.queue_load("experts") == (2, 2, 0)


def test_trace_02_caller_answered_then_hangs_up(replay: Replay, clock: FakeClock) -> None:
    live = lab(clock)
    seen: dict[str, Any] = {}
    for message in replay("02-inbound-queue-answered", clock):
        live.apply(message)
        if message.name == "QueueCallerJoin":
            seen["joined"] = live.queue("coordinators")
        elif message.name == "AgentCalled":
            seen["offered"] = live.queue("coordinators")
        elif message.name == "AgentConnect":
            seen["connected"] = live.queue("coordinators")
            seen["calls"] = live.calls().calls

    joined = seen["joined"]
    (jean,) = joined.callers
    assert (jean.caller_id, jean.caller_name, jean.position, jean.priority) == (
        "0612345678",
        "Jean Dupont",
        1,
        0,
    )
    assert jean.channel == "Local/0612345678@hotline-00000000;2"
    assert seen["offered"].callers[0].offered_to == ("Alice Martin",)

    connected = seen["connected"]
    assert connected.callers == ()
    alice, bruno = connected.members
    assert (alice.name, alice.interface, alice.in_call) == (
        "Alice Martin",
        "Local/agent1@agents",
        True,
    )
    assert (bruno.name, bruno.in_call) == ("Bruno Petit", False)
    assert live.queue_load("coordinators") == (2, 2, 0)
    talking = {call.channel: call for call in seen["calls"]}
    caller_leg = talking["Local/0612345678@hotline-00000000;2"]
    assert (caller_leg.agent, caller_leg.queue, caller_leg.state) == ("Alice Martin", None, "Up")
    assert caller_leg.context == "queue-coordinators"

    coordinators = live.queue("coordinators")
    assert coordinators is not None
    alice, _ = coordinators.members
    assert (alice.in_call, alice.state, alice.calls_taken) == (False, "idle", 1)
    assert coordinators.completed == 1
    assert live.calls().calls == ()


def test_trace_06_member_management_and_withdrawal(replay: Replay, clock: FakeClock) -> None:
    live = LiveState(clock)
    lists: dict[str | None, list[Message]] = {}
    seen: dict[str, Any] = {}
    for message in replay("06-queue-member-mgmt", clock):
        if message.kind is MessageKind.EVENT and message.name in QUEUE_STATUS_ITEMS:
            lists.setdefault(message.action_id, []).append(message)
        if message.name == "QueueStatusComplete" and message.action_id == "a-002":
            # Start as the server does after connecting: from the PBX's own status.
            live.rebuild(lists["a-002"], [])
        elif message.name == "QueueStatusComplete":
            rebuilt = LiveState(clock)
            rebuilt.rebuild(lists[message.action_id], [])
            seen[f"pbx {message.action_id}"] = rebuilt.queue("oncall")
            seen[f"events {message.action_id}"] = live.queue("oncall")
        live.apply(message)
        if message.name in {"QueueMemberAdded", "QueueCallerAbandon", "QueueMemberRemoved"}:
            seen[message.name] = live.queue("oncall")
        if message.name == "QueueMemberPause" and message.get("Interface") == "Local/agent9@agents":
            seen.setdefault("paused", live.queue("oncall"))

    added = {m.interface: m for m in seen["QueueMemberAdded"].members}
    assert added["Local/agent9@agents"].name == "Agent Nine"
    assert added["Local/agent9@agents"].state == "idle"
    paused = {m.name: m for m in seen["paused"].members}
    assert (paused["Agent Nine"].paused, paused["Agent Nine"].paused_reason) == (
        True,
        "Lunch break",
    )

    # QueueChangePriorityCaller emits no event: only the PBX's QueueStatus shows Fanny first.
    assert [c.caller_name for c in seen["events a-018"].callers] == ["Eric Normal", "Fanny Urgent"]
    assert [(c.caller_name, c.priority) for c in seen["pbx a-018"].callers] == [
        ("Fanny Urgent", 20),
        ("Eric Normal", 0),
    ]

    # QueueWithdrawCaller: QueueCallerAbandon (counted), then QueueCallerLeave (gone).
    withdrawn = seen["QueueCallerAbandon"]
    assert withdrawn.abandoned == 1
    oncall = live.queue("oncall")
    assert oncall is not None
    assert "Local/agent9@agents" not in {m.interface for m in seen["QueueMemberRemoved"].members}
    assert oncall.callers == ()
    _assert_same_queue(seen["events a-026"], seen["pbx a-026"], clock)
    assert (oncall.completed, oncall.abandoned) == (1, 1)
    assert [m.name for m in oncall.members] == ["Emma Laurent"]


def test_withdrawn_caller_leaves_the_other_at_position_one(
    replay: Replay, clock: FakeClock
) -> None:
    live = lab(clock)
    for message in replay("06-queue-member-mgmt", clock):
        live.apply(message)
        if message.name == "QueueCallerLeave":
            oncall = live.queue("oncall")
            assert oncall is not None
            assert [(c.caller_name, c.position) for c in oncall.callers] == [("Fanny Urgent", 1)]
            return
    raise AssertionError("trace 06 has a QueueCallerLeave")
