"""Only what exists is tracked (issue 7, item 11): caller IDs, members, queues, channels."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import FakeClock
from callrouter.live.state import LiveCall, LiveState

from .conftest import (
    agent_event,
    caller_join,
    configure,
    core_show_channel,
    hangup,
    lab,
    newchannel,
    queue_member,
    queue_params,
)

Replay = Callable[[str, FakeClock], Iterator[Message]]

TRACES = ("02-inbound-queue-answered", "03-priority-queue-experts", "06-queue-member-mgmt")


def test_a_channel_never_shows_unknown_as_its_caller_id(clock: FakeClock) -> None:
    live = LiveState(clock)
    live.apply(newchannel("Local/0612345678@hotline-00000000;1", "1.0"))
    live.apply(newchannel("PJSIP/trunk-00000001", "1.1", ("0612345678", "Jean Dupont")))
    first, second = live.calls().calls
    assert (first.caller_id, first.caller_name) == ("", "")
    # Newchannel already carries the caller ID of an inbound trunk call.
    assert (second.caller_id, second.caller_name) == ("0612345678", "Jean Dupont")
    live.apply(
        Message.event(
            "Newstate",
            [
                ("Channel", "PJSIP/trunk-00000001"),
                ("ChannelStateDesc", "Up"),
                ("CallerIDNum", "<unknown>"),
                ("CallerIDName", "<unknown>"),
                ("Uniqueid", "1.1"),
            ],
        )
    )
    assert live.calls().calls[1].caller_id == "0612345678"


def test_agent_events_do_not_invent_members_or_queues(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"experts": [("Chloe Bernard", "Local/agent3@agents")]})
    live.apply(newchannel("Local/061@hotline-00000000;2", "1.1", ("061", "Anne")))
    stranger = ("Someone Else", "Local/agent7@agents")
    for name in ("AgentConnect", "AgentComplete"):
        live.apply(agent_event(name, "experts", "Local/061@hotline-00000000;2", "1.1", stranger))
        live.apply(agent_event(name, "sales", "Local/061@hotline-00000000;2", "1.1", stranger))
    experts = live.queue("experts")
    assert experts is not None
    assert [m.name for m in experts.members] == ["Chloe Bernard"]
    assert experts.completed == 0
    assert [queue.name for queue in live.queues()] == ["experts"]


def test_callers_and_priorities_need_a_channel_that_exists(clock: FakeClock) -> None:
    live = LiveState(clock)
    configure(live, {"experts": []})
    live.apply(
        Message.event(
            "QueueCallerJoin", [("Queue", "experts"), ("Uniqueid", "9.9"), ("Position", "1")]
        )
    )
    assert live.queue_load("experts") == (0, 0, 0)


def test_a_channel_whose_hangup_was_mangled_goes_with_its_name(clock: FakeClock) -> None:
    live = LiveState(clock)
    live.apply(newchannel("Local/061@hotline-00000000;2", "1.1"))
    live.apply(
        Message.event("Hangup", [("Channel", "Local/061@hotline-00000000;2"), ("Uniqueid", "x")])
    )
    assert live.calls().total == 0
    # A name reused by a new channel: the old one is gone even if its Hangup was lost.
    live.apply(newchannel("Local/062@hotline-00000001;2", "2.1"))
    live.apply(newchannel("Local/062@hotline-00000001;2", "2.2"))
    assert [call.uniqueid for call in live.calls().calls] == ["2.2"]


def mutated(message: Message, rng: random.Random) -> Message:
    """The frame with its Queue and Uniqueid values mangled now and then, as a fuzzer does."""
    lines = []
    for line in message.lines:
        key, _, value = line.partition(": ")
        if key in {"Queue", "Uniqueid"} and rng.random() < 0.3:
            value = rng.choice([value + str(rng.randrange(10**6)), value[::-1], "", value.upper()])
        lines.append(f"{key}: {value}")
    return Message(lines)


def test_mangled_queue_and_uniqueid_values_cannot_grow_the_state(
    replay: Replay, clock: FakeClock
) -> None:
    rng = random.Random(7)
    live = lab(clock)
    names: set[str] = set()
    for _ in range(30):
        for trace in TRACES:
            for message in replay(trace, clock):
                if message.kind is not MessageKind.EVENT:
                    continue
                names.add(message.get("Channel") or "")
                live.apply(mutated(message, rng))
    assert [queue.name for queue in live.queues()] == ["coordinators", "experts", "oncall"]
    calls = live.calls(limit=10_000)
    # At most one channel per channel name the traces use, and no caller without a channel.
    assert calls.total <= len(names)
    waiting = sum(queue.waiting for queue in live.queues())
    assert waiting <= calls.total
    members = {m.interface for queue in live.queues() for m in queue.members}
    assert members <= {f"Local/agent{n}@agents" for n in (1, 2, 3, 4, 5, 9)}
    assert connected_by_walking(live) == live.connected_calls(limit=10_000, scan=10_000)


def experts_and_callers(
    clock: FakeClock, *, agents: int, callers: int
) -> tuple[LiveState, list[tuple[str, str]], list[tuple[str, str]]]:
    """The experts' queue with `agents` members, and `callers` channels (name, uniqueid)
    on the hotline, none connected yet."""
    members = [(f"Agent {n}", f"Local/agent{n}@agents") for n in range(agents)]
    live = LiveState(clock)
    configure(live, {"experts": members})
    channels = [(f"Local/06{n}@hotline-{n:08x};2", f"1.{n}") for n in range(callers)]
    for channel, uniqueid in channels:
        live.apply(newchannel(channel, uniqueid, (f"06{uniqueid}", "")))
    return live, members, channels


def connected_by_walking(live: LiveState) -> list[LiveCall]:
    """The calls in progress found the long way: every channel, in order."""
    return [call for call in live.calls(limit=10_000).calls if call.agent is not None]


def test_calls_in_progress_are_found_in_order_among_the_first_channels_only(
    clock: FakeClock,
) -> None:
    live, members, channels = experts_and_callers(clock, agents=4, callers=8)
    for (channel, uniqueid), member in zip(channels[1::2], members, strict=True):
        live.apply(agent_event("AgentConnect", "experts", channel, uniqueid, member))
    live.apply(agent_event("AgentComplete", "experts", *channels[3], members[1]))

    def connected(limit: int, scan: int) -> list[tuple[str, str | None]]:
        return [(c.uniqueid, c.agent) for c in live.connected_calls(limit=limit, scan=scan)]

    assert connected(10, 100) == [("1.1", "Agent 0"), ("1.5", "Agent 2"), ("1.7", "Agent 3")]
    assert connected(2, 100) == [("1.1", "Agent 0"), ("1.5", "Agent 2")]
    # Channels beyond `scan` are not looked at: the cost stays bounded.
    assert connected(10, 6) == [("1.1", "Agent 0"), ("1.5", "Agent 2")]


def test_calls_in_progress_follow_connections_escalations_hangups_and_rebuilds(
    clock: FakeClock,
) -> None:
    live, members, channels = experts_and_callers(clock, agents=3, callers=4)
    for (channel, uniqueid), member in zip(channels, members, strict=False):
        live.apply(agent_event("AgentConnect", "experts", channel, uniqueid, member))

    def connected() -> list[str]:
        found = live.connected_calls(limit=10, scan=100)
        assert found == connected_by_walking(live)
        return [call.uniqueid for call in found]

    assert connected() == ["1.0", "1.1", "1.2"]
    # Redirected out of the agent's bridge, the caller waits again (an escalation).
    live.apply(caller_join("experts", *channels[1], ("0611", ""), 1))
    assert connected() == ["1.0", "1.2"]
    live.apply(hangup(*channels[0]))
    assert connected() == ["1.2"]
    live.apply(agent_event("AgentConnect", "experts", *channels[3], members[0]))
    assert connected() == ["1.2", "1.3"]
    # A rebuild sees the calls in progress in the bridges.
    live.rebuild(
        [queue_params("experts", "r"), queue_member("experts", members[1], "r", in_call=True)],
        [
            core_show_channel(channels[2][0], channels[2][1], "r", bridge="b1"),
            core_show_channel("Local/agent1@agents-00000009;1", "9.1", "r", bridge="b1"),
            core_show_channel(channels[3][0], channels[3][1], "r"),
        ],
    )
    assert connected() == ["1.2"]
