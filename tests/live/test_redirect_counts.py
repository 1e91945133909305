"""A caller redirected out of a queue bridge, in the order Asterisk 22.10.1 really sends it.

Seen on the kit's Asterisk (docs/real-asterisk.md, item 10): when the caller is redirected out
of the agent's bridge, app_queue counts the call at once (the member's QueueMemberStatus says
idle with CallsTaken + 1, the queue's Completed goes up) and sends AgentComplete only when the
caller hangs up, minutes later, with no QueueMemberStatus after it.
"""

from __future__ import annotations

from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

from .conftest import agent_event, caller_join, configure, hangup, member_status, newchannel
from .conftest import queue_params as params

BRUNO = ("Bruno Petit", "Local/agent2@agents")
XAVIER = ("Local/0800100200@from-trunk-000000aa;2", "1796142427.341", ("0700000303", "Test"))
YVES = ("Local/0800100200@from-trunk-000000ab;2", "1796142450.350", ("0700000304", "Test"))


def connect(live: LiveState, caller: tuple[str, str, tuple[str, str]], taken: int) -> None:
    channel, uniqueid, who = caller
    live.apply(newchannel(channel, uniqueid, who))
    live.apply(caller_join("coordinators", channel, uniqueid, who, 1))
    live.apply(member_status("coordinators", BRUNO, "2", taken))
    live.apply(agent_event("AgentConnect", "coordinators", channel, uniqueid, BRUNO))


def redirected(clock: FakeClock) -> LiveState:
    """Bruno has taken 1 call (45 in the queue) and talks to Xavier, who is redirected."""
    live = LiveState(clock)
    configure(live, {"coordinators": [BRUNO]})
    live.resync_item(params("coordinators", "boot", completed=45))
    live.apply(member_status("coordinators", BRUNO, "1", 1))
    connect(live, XAVIER, 1)
    # The Redirect ends the bridge: app_queue counts the call now.
    live.apply(member_status("coordinators", BRUNO, "1", 2))
    return live


def counts(live: LiveState) -> tuple[bool, int, int]:
    """(Bruno in a call, calls he has taken, calls the queue completed)."""
    view = live.queue("coordinators")
    assert view is not None
    (bruno,) = view.members
    return bruno.in_call, bruno.calls_taken, view.completed


def test_the_call_is_counted_when_the_pbx_counts_it(clock: FakeClock) -> None:
    live = redirected(clock)
    assert counts(live) == (False, 2, 46)
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    live.apply(agent_event("AgentComplete", "coordinators", XAVIER[0], XAVIER[1], BRUNO))
    assert counts(live) == (False, 2, 46)


def test_a_resync_before_the_deferred_agent_complete_does_not_count_it_twice(
    clock: FakeClock,
) -> None:
    live = redirected(clock)
    # The periodic resynchronisation reads the PBX's counter, which includes the call.
    live.resync_item(params("coordinators", "resync", completed=46))
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    live.apply(agent_event("AgentComplete", "coordinators", XAVIER[0], XAVIER[1], BRUNO))
    assert counts(live) == (False, 2, 46)


def test_the_deferred_agent_complete_leaves_the_next_call_alone(clock: FakeClock) -> None:
    live = redirected(clock)
    connect(live, YVES, 2)
    live.apply(hangup(XAVIER[0], XAVIER[1]))
    live.apply(agent_event("AgentComplete", "coordinators", XAVIER[0], XAVIER[1], BRUNO))
    assert counts(live) == (True, 2, 46)
    live.apply(agent_event("AgentComplete", "coordinators", YVES[0], YVES[1], BRUNO))
    live.apply(member_status("coordinators", BRUNO, "1", 3))
    assert counts(live) == (False, 3, 47)
