"""After a reconnect the state is what the PBX says, not what was remembered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

from .conftest import lab, queue_params

Replay = Callable[[str, FakeClock], Iterator[Message]]

ANNE = "Local/0611111111@hotline-00000000"
BERNARD = "Local/0622222222@hotline-00000001"


def core_show_channel(
    channel: str,
    uniqueid: str,
    linkedid: str,
    *,
    context: str,
    exten: str,
    caller: tuple[str, str] = ("0611111111", "Anne Client"),
    duration: str = "00:00:07",
    bridge: str = "",
) -> Message:
    """A CoreShowChannel list item as Asterisk 22 writes it (ActionID second)."""
    number, name = caller
    return Message.event(
        "CoreShowChannel",
        [
            ("ActionID", "r-2"),
            ("Channel", channel),
            ("ChannelState", "6"),
            ("ChannelStateDesc", "Up"),
            ("CallerIDNum", number),
            ("CallerIDName", name),
            ("ConnectedLineNum", number),
            ("ConnectedLineName", name),
            ("Language", "en"),
            ("AccountCode", ""),
            ("Context", context),
            ("Exten", exten),
            ("Priority", "1"),
            ("Uniqueid", uniqueid),
            ("Linkedid", linkedid),
            ("Application", "Queue"),
            ("ApplicationData", "experts"),
            ("Duration", duration),
            ("BridgeId", bridge),
        ],
    )


def queue_status_of(replay: Replay, clock: FakeClock, action_id: str) -> list[Message]:
    """The whole QueueStatus answer `action_id` of trace 03, response and Complete included."""
    return [m for m in replay("03-priority-queue-experts", clock) if m.action_id == action_id]


def test_rebuild_forgets_a_call_that_hung_up_while_disconnected(
    replay: Replay, clock: FakeClock
) -> None:
    live = LiveState(clock)
    for message in replay("03-priority-queue-experts", clock):
        live.apply(message)
        if message.name == "AgentConnect":
            break
    assert any(call.channel == f"{BERNARD};2" for call in live.calls().calls)

    # Disconnected; meanwhile Bernard hung up. The PBX now lists only Anne's two legs.
    status = queue_status_of(replay, clock, "a-015")
    clock.advance(timedelta(minutes=5))
    anne_legs = [
        core_show_channel(
            f"{ANNE};1", "1795433957.0", "1795433957.0", context="hotline", exten="0611111111"
        ),
        core_show_channel(
            f"{ANNE};2", "1795433957.1", "1795433957.0", context="queue-experts", exten="s"
        ),
    ]
    live.rebuild(status, anne_legs)

    calls = live.calls().calls
    assert [call.channel for call in calls] == [f"{ANNE};1", f"{ANNE};2"]
    assert all(call.started_at == clock.now() - timedelta(seconds=7) for call in calls)
    assert [call.queue for call in calls] == [None, "experts"]
    experts = live.queue("experts")
    assert experts is not None
    (anne,) = experts.callers
    assert (anne.caller_name, anne.position, anne.priority) == ("Anne Client", 1, 0)
    assert anne.waiting_seconds(clock.now()) == 7
    assert [q.name for q in live.queues()] == ["experts"]


def test_rebuild_finds_the_agent_through_the_bridge(replay: Replay, clock: FakeClock) -> None:
    live = LiveState(clock)
    bernard = ("0622222222", "Bernard VIP")
    channels = [
        core_show_channel(
            f"{BERNARD};2",
            "1795433959.3",
            "1795433959.2",
            context="queue-experts",
            exten="s",
            caller=bernard,
            bridge="0b5d-bridge",
        ),
        core_show_channel(
            "Local/agent3@agents-00000002;1",
            "1795433962.4",
            "1795433959.2",
            context="agents",
            exten="s",
            caller=bernard,
            bridge="0b5d-bridge",
        ),
        core_show_channel(
            f"{ANNE};2", "1795433957.1", "1795433957.0", context="queue-experts", exten="s"
        ),
    ]
    live.rebuild(queue_status_of(replay, clock, "a-015"), channels)

    agents = {call.channel: call.agent for call in live.calls().calls}
    assert agents == {
        f"{BERNARD};2": "Chloe Bernard",
        "Local/agent3@agents-00000002;1": None,
        f"{ANNE};2": None,
    }
    assert live.queue_load("experts") == (2, 0, 1)


def test_rebuild_replaces_members_and_counters(replay: Replay, clock: FakeClock) -> None:
    live = lab(clock)
    for message in replay("03-priority-queue-experts", clock):
        live.apply(message)
    assert live.queue("experts") is not None

    status = [m for m in queue_status_of(replay, clock, "a-013") if m.kind is MessageKind.EVENT]
    stray = Message.event("QueueCallerJoin", {"Queue": "stray", "Uniqueid": "9.9"})
    live.rebuild([*status, stray], [stray])
    assert [q.name for q in live.queues()] == ["coordinators", "experts", "oncall"]
    experts = live.queue("experts")
    assert experts is not None
    assert experts.completed == 0
    assert [(m.name, m.calls_taken, m.paused) for m in experts.members] == [
        ("Chloe Bernard", 0, True),
        ("David Moreau", 0, True),
    ]
    assert live.calls().calls == ()


def test_priority_seen_before_a_rebuild_is_not_carried_over(clock: FakeClock) -> None:
    live = lab(clock)
    snapshot = [("Channel", f"{ANNE};2"), ("Uniqueid", "1795433957.1")]
    live.apply(Message.event("Newchannel", snapshot))
    live.apply(Message.event("VarSet", [*snapshot, ("Variable", "QUEUE_PRIO"), ("Value", "5")]))
    anne = core_show_channel(
        f"{ANNE};2", "1795433957.1", "1795433957.0", context="hotline", exten="s"
    )
    live.rebuild([queue_params("experts", "r-1")], [anne])
    live.apply(
        Message.event("QueueCallerJoin", [*snapshot, ("Queue", "experts"), ("Position", "1")])
    )
    experts = live.queue("experts")
    assert experts is not None
    assert experts.callers[0].priority is None
