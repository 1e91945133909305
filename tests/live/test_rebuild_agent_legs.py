"""A rebuild during a queue call, with the channels a real Asterisk 22.10.1 lists.

A member `Local/agentN@agents` has two halves: `;1` is in the caller's bridge (Queue), `;2`
dials the agent's phone and is in a second bridge with the phone's channel. Seen on the kit's
Asterisk (docs/real-asterisk.md, item 7): after a reconnect during a call, the call's
AgentComplete was not counted in `completed` until the periodic resynchronisation.
"""

from __future__ import annotations

from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

from .conftest import (
    agent_event,
    core_show_channel,
    list_complete,
    member_status,
    queue_member,
    queue_params,
)

BRUNO = ("Bruno Petit", "Local/agent2@agents")
CALLER = "Local/0800100200@from-trunk-0000009e;2"
CALLER_ID = "1796142139.317"
PHONE = "PJSIP/bruno-petit-000000a0"


def rebuilt_during_a_call(clock: FakeClock) -> LiveState:
    """Rebuilt while Bruno talks with the caller: 41 calls completed, 20 taken by him."""
    live = LiveState(clock)
    queue_status = [
        queue_params("coordinators", "qs", completed=41, abandoned=11),
        queue_member("coordinators", BRUNO, "qs", status="2", in_call=True, calls_taken=20),
        list_complete("QueueStatusComplete", "qs", 2),
    ]
    channels = [
        core_show_channel(CALLER, CALLER_ID, "cs", context="hotline-queue", bridge="caller-b"),
        core_show_channel(
            "Local/agent2@agents-0000009f;1", "1796142152.318", "cs", bridge="caller-b"
        ),
        core_show_channel(
            "Local/agent2@agents-0000009f;2", "1796142152.319", "cs", bridge="phone-b"
        ),
        core_show_channel(PHONE, "1796142152.320", "cs", bridge="phone-b"),
        list_complete("CoreShowChannelsComplete", "cs", 4),
    ]
    live.rebuild(queue_status, channels)
    return live


def completed(live: LiveState) -> tuple[int, int]:
    view = live.queue("coordinators")
    assert view is not None
    (member,) = view.members
    return view.completed, member.calls_taken


def test_the_call_under_way_at_the_rebuild_is_counted_when_it_ends(clock: FakeClock) -> None:
    live = rebuilt_during_a_call(clock)
    live.apply(agent_event("AgentComplete", "coordinators", CALLER, CALLER_ID, BRUNO))
    live.apply(member_status("coordinators", BRUNO, "1", 21))
    assert completed(live) == (42, 21)


def test_either_order_of_the_end_of_call_events(clock: FakeClock) -> None:
    live = rebuilt_during_a_call(clock)
    live.apply(member_status("coordinators", BRUNO, "1", 21))
    live.apply(agent_event("AgentComplete", "coordinators", CALLER, CALLER_ID, BRUNO))
    assert completed(live) == (42, 21)


def test_the_agent_phone_leg_is_not_a_call_with_the_agent(clock: FakeClock) -> None:
    agents = {call.channel: call.agent for call in rebuilt_during_a_call(clock).calls().calls}
    assert agents[CALLER] == "Bruno Petit"
    assert agents[PHONE] is None


def test_a_member_channel_that_is_not_a_local_half_still_links(clock: FakeClock) -> None:
    """A member whose interface is the phone itself (no Local channel): one bridge."""
    live = LiveState(clock)
    phone_member = ("Chloe Bernard", "PJSIP/chloe-bernard")
    live.rebuild(
        [
            queue_params("experts", "qs", completed=3),
            queue_member("experts", phone_member, "qs", status="2", in_call=True, calls_taken=3),
        ],
        [
            core_show_channel(CALLER, CALLER_ID, "cs", bridge="b"),
            core_show_channel("PJSIP/chloe-bernard-00000001", "9.1", "cs", bridge="b"),
        ],
    )
    assert {c.channel: c.agent for c in live.calls().calls}[CALLER] == "Chloe Bernard"
    live.apply(agent_event("AgentComplete", "experts", CALLER, CALLER_ID, phone_member))
    view = live.queue("experts")
    assert view is not None
    assert view.completed == 4
