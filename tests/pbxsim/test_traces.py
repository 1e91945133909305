"""Replays the real client's actions of each captured trace against the simulator and checks
that what comes back has the same SHAPE as what Asterisk 22 sent: the same responses, the same
header keys in the same order for every event, and the key events in the same order."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from callrouter.ami import Message, MessageKind
from callrouter.pbxsim import PBXSimulator, SimulatorSettings

from .conftest import AMITestClient, Predicate, event_named, trace_actions, trace_messages

#: Events whose relative order a router relies on (VarSet only for QUEUE_PRIO).
KEY_EVENTS = frozenset(
    {
        "Newchannel",
        "Hangup",
        "UserEvent",
        "VarSet",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "BridgeCreate",
        "BridgeEnter",
        "BridgeLeave",
        "BridgeDestroy",
        "QueueMemberPause",
        "QueueMemberAdded",
        "QueueMemberRemoved",
    }
)


#: Asterisk tears a call down from several threads: the relative order of these differs
#: between its own traces (02 and 03), so they are compared per channel, not globally.
#: AgentComplete may come before or after the teardown, even without the snapshot of a
#: channel already gone: it is compared on its own (`completions`).
TEARDOWN = frozenset({"Hangup", "BridgeLeave", "BridgeDestroy", "AgentComplete"})


@pytest.fixture
def settings(settings: SimulatorSettings) -> SimulatorSettings:
    """The lab that recorded the traces: a dialplan that asked for no DTMF (no prompt, no
    wait), an on-call queue without escalation chain, and an AMI user with `read = all`."""
    settings.prompts = {}
    settings.oncall_escalation = False
    settings.digit_timeout = 0.0
    settings.read_classes = None
    return settings


def key_events(messages: list[Message]) -> list[Message]:
    return [
        m
        for m in messages
        if m.kind is MessageKind.EVENT
        and m.name in KEY_EVENTS
        and not (m.name == "VarSet" and m.get("Variable") != "QUEUE_PRIO")
        # Our production dialplan announces the queue priority; the lab's did not.
        and not (m.name == "UserEvent" and m.get("UserEvent") == "HotlineQueued")
    ]


def originate_outcomes(messages: list[Message]) -> list[tuple[str | None, ...]]:
    """OriginateResponse comes from the originating thread, so Asterisk places it anywhere
    around the call's first events (in 06 even before its Newchannel); its content counts."""
    return [
        (m.action_id, m.get("Response"), m.get("Reason"), m.get("Channel"))
        for m in messages
        if m.kind is MessageKind.EVENT and m.name == "OriginateResponse"
    ]


def key_sequence(messages: list[Message]) -> list[str]:
    """Key events in order, teardown left out, each with the channel it is about."""
    return [
        f"{m.name} {m.get('Channel') or ''}".strip()
        for m in key_events(messages)
        if m.name not in TEARDOWN
    ]


def per_channel(messages: list[Message]) -> dict[str, list[str]]:
    """For every channel, the key events about it, teardown included, in order."""
    found: dict[str, list[str]] = defaultdict(list)
    for m in key_events(messages):
        channel = m.get("Channel")
        if channel and m.name != "AgentComplete":
            found[channel].append(m.name)
    return dict(found)


def completions(messages: list[Message]) -> list[tuple[str | None, ...]]:
    return [
        (m.get("Queue"), m.get("MemberName"), m.get("Reason"))
        for m in messages
        if m.kind is MessageKind.EVENT and m.name == "AgentComplete"
    ]


def counts(messages: list[Message]) -> Counter[str]:
    return Counter(m.name for m in key_events(messages))


def header_keys(message: Message) -> tuple[str, ...]:
    keys = [k for k, _ in message.items()]
    if message.name == "UserEvent" and "UserEvent" in keys:
        # Custom headers are the dialplan's (the contract's HotlineCall differs from the lab's).
        keys = keys[: keys.index("UserEvent") + 1]
    return tuple(keys)


def shapes(messages: list[Message]) -> dict[str, set[tuple[str, ...]]]:
    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for m in messages:
        if m.kind is MessageKind.EVENT:
            found[m.name].add(header_keys(m))
    return found


SNAPSHOT = frozenset(
    {
        "Channel",
        "ChannelState",
        "ChannelStateDesc",
        "CallerIDNum",
        "CallerIDName",
        "ConnectedLineNum",
        "ConnectedLineName",
        "Language",
        "AccountCode",
        "Context",
        "Exten",
        "Priority",
        "Uniqueid",
        "Linkedid",
    }
)


def with_gone_channels(keysets: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """app_queue builds AgentComplete from the channels' latest snapshots: a channel already
    gone when it completes the call (late, or after a Redirect) is left out of the event."""
    allowed = set(keysets)
    for keys in keysets:
        no_caller = tuple(k for k in keys if k not in SNAPSHOT)
        no_agent = tuple(k for k in keys if k.removeprefix("Dest") not in SNAPSHOT)
        neither = tuple(k for k in no_caller if k.removeprefix("Dest") not in SNAPSHOT)
        allowed |= {no_caller, no_agent, neither}
    return allowed


def responses(messages: list[Message]) -> list[tuple[str, str | None, str | None]]:
    return [
        (m.name, m.action_id, m.get("Message") or m.get("EventList"))
        for m in messages
        if m.kind is MessageKind.RESPONSE
    ]


def list_framing(messages: list[Message]) -> list[tuple[str, str | None]]:
    """List items and their Complete events, with the counts they announce."""
    return [
        (m.name, m.get("ListItems"))
        for m in messages
        if (
            m.kind is MessageKind.EVENT
            and m.name in ("QueueParams", "QueueMember", "QueueEntry", "QueueSummary")
        )
        or m.is_list_complete
    ]


async def replay(
    client: AMITestClient, actions: list[Message], before: dict[str, Predicate]
) -> None:
    for action in actions:
        action_id = action.action_id
        if action_id in before:
            await client.wait_for(before[action_id])
        await client.send(action)
        if action.name == "Logoff":
            await client.wait_closed()
        else:
            await client.wait_for(response_to(action_id))


def response_to(action_id: str | None) -> Predicate:
    return lambda m: m.kind is MessageKind.RESPONSE and m.action_id == action_id


def every_trace_shape(traces_dir: Path) -> dict[str, set[tuple[str, ...]]]:
    """Header keys of every event Asterisk sent in any trace."""
    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for path in sorted(traces_dir.glob("*.ami")):
        for name, keysets in shapes(trace_messages(path)).items():
            found[name] |= keysets
    found["AgentComplete"] = with_gone_channels(found["AgentComplete"])
    return found


def assert_like_trace(sim: list[Message], real: list[Message], traces_dir: Path) -> None:
    assert responses(sim) == responses(real)
    assert list_framing(sim) == list_framing(real)
    real_shapes = every_trace_shape(traces_dir)
    for name, keysets in shapes(sim).items():
        assert name in real_shapes, f"{name} never appears in the traces"
        assert keysets <= real_shapes[name], f"{name} headers differ from the traces"
    assert key_sequence(sim) == key_sequence(real)
    assert per_channel(sim) == per_channel(real)
    assert counts(sim) == counts(real)
    assert originate_outcomes(sim) == originate_outcomes(real)
    assert completions(sim) == completions(real)


def hangup_of(channel: str) -> Predicate:
    return event_named("Hangup", Channel=channel)


def hotline_call(channel: str) -> Predicate:
    return event_named("UserEvent", UserEvent="HotlineCall", Channel=channel)


SCENARIOS: dict[str, dict[str, Predicate]] = {
    "02-inbound-queue-answered": {
        "a-003": hotline_call("Local/0612345678@hotline-00000000;2"),
        "a-005": event_named("QueueMemberStatus", Status="1"),
    },
    "03-priority-queue-experts": {
        "a-005": hotline_call("Local/0611111111@hotline-00000000;2"),
        "a-007": event_named("QueueCallerJoin", Count="1"),
        "a-008": hotline_call("Local/0622222222@hotline-00000001;2"),
        "a-010": event_named("QueueCallerJoin", Count="2"),
        "a-015": event_named("AgentConnect", Channel="Local/0622222222@hotline-00000001;2"),
        "a-017": event_named("AgentConnect", Channel="Local/0611111111@hotline-00000000;2"),
        "a-018": hangup_of("Local/agent3@agents-00000003;2"),
    },
    "05-originate-callback": {
        "a-003": hangup_of("Local/agent1@agents-00000000;2"),
        "a-004": hangup_of("Local/0699000001@customers-00000003;2"),
        "a-005": hangup_of("Local/agent2@agents-00000004;2"),
        "a-006": event_named("OriginateResponse", ActionID="a-005"),
        "a-007": event_named("OriginateResponse", ActionID="a-006"),
        "a-008": event_named("OriginateResponse", ActionID="a-007"),
        "a-009": event_named("OriginateResponse", ActionID="a-008"),
        "a-010": hangup_of("Local/noanswer@agents-00000009;2"),
    },
    "06-queue-member-mgmt": {
        "a-010": hotline_call("Local/0655555555@hotline-00000000;2"),
        "a-012": event_named("QueueCallerJoin", Count="1"),
        "a-013": hotline_call("Local/0666666666@hotline-00000001;2"),
        "a-015": event_named("QueueCallerJoin", Count="2"),
        "a-020": hangup_of("Local/0655555555@hotline-00000000;1"),
        "a-021": event_named("AgentConnect"),
        "a-023": hangup_of("Local/agent9@agents-00000002;2"),
    },
    "07-errors": {
        "a-006": hangup_of("Local/0677777777@hotline-00000000;2"),
        "a-011": hotline_call("Local/0688888888@hotline-00000001;2"),
        "a-012": hangup_of("Local/0688888888@hotline-00000001;1"),
    },
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_replaying_a_trace_gives_the_same_shape(
    scenario: str, traces_dir: Path, client: AMITestClient
) -> None:
    actions = trace_actions(traces_dir / f"{scenario}.actions")
    await replay(client, actions, SCENARIOS[scenario])
    assert_like_trace(client.received, trace_messages(traces_dir / f"{scenario}.ami"), traces_dir)


@pytest.mark.parametrize("scenario", ["07-errors-badlogin", "07-errors-unknownuser"])
async def test_a_refused_login_answers_like_asterisk_then_closes(
    scenario: str, traces_dir: Path, simulator: PBXSimulator
) -> None:
    client = await AMITestClient.connect(simulator.port)
    try:
        for action in trace_actions(traces_dir / f"{scenario}.actions"):
            await client.send(action)
        await client.wait_closed()
    finally:
        await client.close()
    assert client.parser.banner == "Asterisk Call Manager/11.0.0"
    assert client.closed
    real = trace_messages(traces_dir / f"{scenario}.ami")
    assert [m.lines for m in client.received] == [m.lines for m in real]
