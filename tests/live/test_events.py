"""Event handling details: waiting time, positions, notifications, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState, interface_of

from .conftest import configure, newchannel

QUEUES: dict[str, list[tuple[str, str]]] = {
    "coordinators": [],
    "experts": [
        ("Chloe Bernard", "Local/agent3@agents"),
        ("David Moreau", "Local/agent4@agents"),
        ("Gil Roux", "Local/agent6@agents"),
    ],
}


def configured(clock: FakeClock) -> LiveState:
    live = LiveState(clock)
    configure(live, QUEUES)
    return live


def join(live: LiveState, uniqueid: str, position: str, queue: str = "coordinators") -> None:
    """A caller's channel appears, then joins `queue` at `position`."""
    channel = f"Local/06{uniqueid}@hotline-0000000{uniqueid};2"
    live.apply(newchannel(channel, uniqueid))
    live.apply(join_event(uniqueid, position, queue))


def join_event(uniqueid: str, position: str, queue: str = "coordinators") -> Message:
    return Message.event(
        "QueueCallerJoin",
        [
            ("Channel", f"Local/06{uniqueid}@hotline-0000000{uniqueid};2"),
            ("CallerIDNum", f"06{uniqueid}"),
            ("CallerIDName", f"Caller {uniqueid}"),
            ("Priority", "3"),
            ("Uniqueid", uniqueid),
            ("Queue", queue),
            ("Position", position),
        ],
    )


def leave(uniqueid: str, queue: str = "coordinators") -> Message:
    return Message.event("QueueCallerLeave", [("Uniqueid", uniqueid), ("Queue", queue)])


def positions(live: LiveState, queue: str = "coordinators") -> list[tuple[str, int]]:
    view = live.queue(queue)
    assert view is not None
    assert view.waiting == len(view.callers)
    return [(caller.uniqueid, caller.position) for caller in view.callers]


def test_waiting_time_follows_the_injected_clock(clock: FakeClock) -> None:
    live = configured(clock)
    join(live, "1", "1")
    clock.advance(timedelta(seconds=42))
    view = live.queue("coordinators")
    assert view is not None
    (caller,) = view.callers
    assert caller.waiting_seconds(clock.now()) == 42
    as_json = json.loads(json.dumps(view.to_dict(clock.now())))
    assert as_json["callers"][0]["waiting_seconds"] == 42
    assert as_json["longest_wait_seconds"] == 42


def test_positions_shift_on_join_and_leave(clock: FakeClock) -> None:
    live = configured(clock)
    join(live, "1", "1")
    join(live, "2", "2")
    join(live, "3", "1")  # a higher priority caller goes ahead of everyone
    assert positions(live) == [("3", 1), ("1", 2), ("2", 3)]
    live.apply(leave("1"))
    assert positions(live) == [("3", 1), ("2", 2)]


def test_join_priority_header_is_the_dialplan_priority_not_the_queue_one(
    clock: FakeClock,
) -> None:
    live = configured(clock)
    join(live, "1", "1")
    view = live.queue("coordinators")
    assert view is not None
    assert view.callers[0].priority is None


def test_the_dialplan_announces_the_queue_priority_without_any_varset(
    clock: FakeClock,
) -> None:
    # The production AMI user reads no `dialplan` class: HotlineQueued tells the priority.
    live = configured(clock)
    live.apply(newchannel("Local/061@hotline-00000001;2", "1"))
    live.apply(
        Message.event(
            "UserEvent",
            [
                ("Channel", "Local/061@hotline-00000001;2"),
                ("Priority", "2"),
                ("Uniqueid", "1"),
                ("UserEvent", "HotlineQueued"),
                ("Queue", "coordinators"),
                ("QueuePriority", "10"),
            ],
        )
    )
    live.apply(join_event("1", "1"))
    view = live.queue("coordinators")
    assert view is not None
    assert view.callers[0].priority == 10


def test_hangup_of_a_waiting_caller_without_leave_removes_it(clock: FakeClock) -> None:
    live = configured(clock)
    join(live, "1", "1")
    live.apply(Message.event("Hangup", [("Channel", "x"), ("Uniqueid", "1")]))
    assert positions(live) == []


def test_unknown_and_malformed_events_are_ignored(clock: FakeClock) -> None:
    live = configured(clock)
    join(live, "1", "1")
    notified: list[None] = []
    live.on_change(lambda: notified.append(None))
    before = (live.queues(), live.calls())
    for message in [
        Message.event("SomethingNew", {"Queue": "coordinators"}),
        Message.event("QueueCallerJoin", {}),
        Message.event("QueueCallerLeave", {"Queue": "coordinators"}),
        Message.event("QueueMemberStatus", {"Queue": "coordinators"}),
        Message.event("QueueMemberStatus", {"Queue": "ghost", "MemberName": "Nobody"}),
        Message.event("QueueCallerAbandon", {"Queue": "ghost"}),
        Message.event("AgentComplete", {"Queue": "ghost", "Uniqueid": "1"}),
        Message.event("AgentConnect", {"Uniqueid": "1"}),
        Message.event("Newstate", {"Uniqueid": "never-seen"}),
        Message.event("Hangup", {"Uniqueid": "never-seen"}),
        Message.event("VarSet", {"Variable": "QUEUE_PRIO", "Value": "high"}),
        Message.action("Hangup", {"Channel": "x", "Uniqueid": "1"}),
        Message.response("Success", {"Uniqueid": "1"}),
        Message(["no header here"]),
    ]:
        live.apply(message)
    assert (live.queues(), live.calls()) == before
    assert notified == []


def test_unreadable_numbers_do_not_break_a_join(clock: FakeClock) -> None:
    live = configured(clock)
    join(live, "1", "1")
    join(live, "2", "second")
    assert positions(live) == [("1", 1), ("2", 2)]


def test_member_state_from_status_code_and_availability(clock: FakeClock) -> None:
    live = configured(clock)

    def member_event(name: str, interface: str, status: str, paused: str) -> Message:
        return Message.event(
            "QueueMemberStatus",
            [
                ("Queue", "experts"),
                ("MemberName", name),
                ("Interface", interface),
                ("CallsTaken", "3"),
                ("InCall", "0"),
                ("Status", status),
                ("Paused", paused),
                ("PausedReason", "Lunch" if paused == "1" else ""),
            ],
        )

    live.apply(member_event("Chloe Bernard", "Local/agent3@agents", "1", "0"))
    live.apply(member_event("David Moreau", "Local/agent4@agents", "1", "1"))
    live.apply(member_event("Gil Roux", "Local/agent6@agents", "5", "0"))
    view = live.queue("experts")
    assert view is not None
    assert [(m.name, m.state, m.paused_reason, m.calls_taken) for m in view.members] == [
        ("Chloe Bernard", "idle", "", 3),
        ("David Moreau", "idle", "Lunch", 3),
        ("Gil Roux", "unavailable", "", 3),
    ]
    assert live.queue_load("experts") == (3, 1, 0)
    assert live.queue_load("nowhere") == (0, 0, 0)
    assert live.queue("nowhere") is None


def test_subscribers_hear_visible_changes_only(clock: FakeClock) -> None:
    live = configured(clock)
    heard: list[str] = []

    def broken() -> None:
        raise RuntimeError("a buggy supervisor view")

    live.on_change(broken)
    live.apply(newchannel("Local/061@hotline-00000001;2", "1"))
    unsubscribe = live.on_change(lambda: heard.append("change"))
    live.apply(
        Message.event("VarSet", [("Uniqueid", "1"), ("Variable", "QUEUE_PRIO"), ("Value", "10")])
    )
    assert heard == []
    live.apply(join_event("1", "1"))
    assert heard == ["change"]
    view = live.queue("coordinators")
    assert view is not None
    assert view.callers[0].priority == 10
    unsubscribe()
    live.apply(leave("1"))
    assert heard == ["change"]
    assert positions(live) == []


def test_interface_of_a_channel() -> None:
    assert interface_of("Local/agent3@agents-00000002;1") == "Local/agent3@agents"
    assert interface_of("PJSIP/alice-0000001f") == "PJSIP/alice"
    assert interface_of("Local/agent9@agents") == "Local/agent9@agents"
