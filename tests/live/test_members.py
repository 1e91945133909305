"""Members and counts as the real PBX orders its events (issue 7, items 9 and 10)."""

from __future__ import annotations

import pytest

from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

from .conftest import (
    agent_event,
    caller_join,
    configure,
    hangup,
    member_status,
    newchannel,
)

CHLOE = ("Chloe Bernard", "Local/agent3@agents")
ALICE = ("Alice Martin", "Local/agent1@agents")
XAVIER = ("Local/0633333333@hotline-00000002;2", "1.5", ("0633333333", "Xavier Talks"))
YVES = ("Local/0644444444@hotline-00000003;2", "1.7", ("0644444444", "Yves Waits"))


def connected(clock: FakeClock, *callers: tuple[str, str, tuple[str, str]]) -> LiveState:
    """Chloe (experts) has taken 3 calls and is now connected to the first caller."""
    live = LiveState(clock)
    configure(live, {"experts": [CHLOE], "coordinators": [ALICE]})
    live.apply(member_status("experts", CHLOE, "1", 3))
    for channel, uniqueid, caller in callers:
        live.apply(newchannel(channel, uniqueid, caller))
    channel, uniqueid, caller = callers[0]
    live.apply(caller_join("experts", channel, uniqueid, caller, 1))
    live.apply(member_status("experts", CHLOE, "2", 3))
    live.apply(agent_event("AgentConnect", "experts", channel, uniqueid, CHLOE))
    return live


def chloe(live: LiveState) -> tuple[bool, int, int]:
    """(in call, calls taken, queue completed)."""
    experts = live.queue("experts")
    assert experts is not None
    (member,) = experts.members
    return member.in_call, member.calls_taken, experts.completed


@pytest.mark.parametrize("member_status_first", [False, True])
def test_a_call_is_counted_once_whatever_the_order(
    member_status_first: bool, clock: FakeClock
) -> None:
    live = connected(clock, XAVIER)
    assert chloe(live) == (True, 3, 0)
    complete = agent_event("AgentComplete", "experts", XAVIER[0], XAVIER[1], CHLOE)
    # QueueMemberStatus carries the new total: 4.
    idle = member_status("experts", CHLOE, "1", 4)
    for event in [idle, complete] if member_status_first else [complete, idle]:
        live.apply(event)
    assert chloe(live) == (False, 4, 1)
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    assert chloe(live) == (False, 4, 1)


def test_an_agent_complete_seen_twice_counts_once(clock: FakeClock) -> None:
    live = connected(clock, XAVIER)
    complete = agent_event("AgentComplete", "experts", XAVIER[0], XAVIER[1], CHLOE)
    live.apply(complete)
    live.apply(complete)
    assert chloe(live) == (False, 4, 1)


def redirected(clock: FakeClock) -> LiveState:
    """Xavier, talking to Chloe, is redirected (escalated) to the coordinators' queue."""
    live = connected(clock, XAVIER, YVES)
    live.apply(
        Message.event(
            "Newexten",
            [("Channel", XAVIER[0]), ("Uniqueid", XAVIER[1]), ("Context", "hotline-queue")],
        )
    )
    # Chloe's leg hangs up: her device is idle, app_queue has not counted the call yet.
    live.apply(member_status("experts", CHLOE, "1", 3))
    live.apply(caller_join("coordinators", XAVIER[0], XAVIER[1], XAVIER[2], 1))
    return live


def test_after_a_redirect_the_member_is_free_and_the_caller_has_no_agent(
    clock: FakeClock,
) -> None:
    live = redirected(clock)
    assert chloe(live) == (False, 3, 0)
    assert live.queue_load("experts") == (1, 1, 0)
    (xavier,) = [call for call in live.calls().calls if call.uniqueid == XAVIER[1]]
    assert (xavier.queue, xavier.agent) == ("coordinators", None)

    # Asterisk sends the deferred AgentComplete when Xavier finally hangs up.
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    live.apply(agent_event("AgentComplete", "experts", XAVIER[0], XAVIER[1], CHLOE))
    live.apply(member_status("experts", CHLOE, "1", 4))
    assert chloe(live) == (False, 4, 1)


def test_a_deferred_agent_complete_does_not_end_the_members_next_call(
    clock: FakeClock,
) -> None:
    live = redirected(clock)
    # Yves is connected to Chloe while Xavier still waits elsewhere.
    live.apply(caller_join("experts", YVES[0], YVES[1], YVES[2], 1))
    live.apply(member_status("experts", CHLOE, "2", 3))
    live.apply(agent_event("AgentConnect", "experts", YVES[0], YVES[1], CHLOE))
    assert chloe(live)[0] is True
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    live.apply(agent_event("AgentComplete", "experts", XAVIER[0], XAVIER[1], CHLOE))
    assert chloe(live) == (True, 4, 1)
    (yves,) = [call for call in live.calls().calls if call.uniqueid == YVES[1]]
    assert yves.agent == "Chloe Bernard"
