"""Replaying the captured AMI traces into the live state, read by read as they arrived."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callrouter.ami.message import Message
from callrouter.ami.parser import AMIParser
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

#: When the traces were captured (README of ami-traces); only differences matter here.
CAPTURE_START = datetime(2026, 11, 23, 11, 39, 0, tzinfo=UTC)

Replay = Callable[[str, FakeClock], Iterator[Message]]


@pytest.fixture
def replay(traces_dir: Path) -> Replay:
    """Yield the messages Asterisk sent in trace `name`, one TCP read at a time, with the fake
    clock set to the moment each read arrived (`t` of the timeline)."""

    def messages(name: str, clock: FakeClock) -> Iterator[Message]:
        data = (traces_dir / f"{name}.ami").read_bytes()
        parser = AMIParser()
        for line in (traces_dir / f"{name}.timeline.jsonl").read_text().splitlines():
            read = json.loads(line)
            if read["dir"] != "recv":
                continue
            clock.set(CAPTURE_START + timedelta(seconds=read["t"]))
            yield from parser.feed(data[read["off"] : read["off"] + read["len"]])

    return messages


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(CAPTURE_START)


# -- AMI frames as Asterisk 22 writes them (header order from ../shared/ami-traces) ---------


def snapshot_headers(channel: str, uniqueid: str, caller: tuple[str, str]) -> list[tuple[str, str]]:
    number, name = caller
    return [
        ("Channel", channel),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", number),
        ("CallerIDName", name),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", "hotline"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Uniqueid", uniqueid),
        ("Linkedid", uniqueid),
    ]


def newchannel(
    channel: str, uniqueid: str, caller: tuple[str, str] = ("<unknown>", "<unknown>")
) -> Message:
    return Message.event("Newchannel", snapshot_headers(channel, uniqueid, caller))


def hangup(channel: str, uniqueid: str) -> Message:
    return Message.event(
        "Hangup",
        [
            *snapshot_headers(channel, uniqueid, ("", "")),
            ("Cause", "16"),
            ("Cause-txt", "Normal Clearing"),
        ],
    )


def hotline_queued(channel: str, uniqueid: str, priority: int, queue: str) -> Message:
    return Message.event(
        "UserEvent",
        [
            *snapshot_headers(channel, uniqueid, ("", "")),
            ("UserEvent", "HotlineQueued"),
            ("Queue", queue),
            ("QueuePriority", str(priority)),
        ],
    )


def caller_join(
    queue: str, channel: str, uniqueid: str, caller: tuple[str, str], position: int
) -> Message:
    return Message.event(
        "QueueCallerJoin",
        [
            *snapshot_headers(channel, uniqueid, caller),
            ("Queue", queue),
            ("Position", str(position)),
            ("Count", str(position)),
        ],
    )


def caller_leave(queue: str, channel: str, uniqueid: str) -> Message:
    return Message.event(
        "QueueCallerLeave",
        [*snapshot_headers(channel, uniqueid, ("", "")), ("Queue", queue), ("Position", "1")],
    )


def agent_event(
    name: str, queue: str, channel: str, uniqueid: str, member: tuple[str, str]
) -> Message:
    """AgentConnect/AgentComplete of caller `uniqueid` with member (name, interface); without
    Dest* headers, as the AgentComplete deferred after a Redirect."""
    member_name, interface = member
    return Message.event(
        name,
        [
            *snapshot_headers(channel, uniqueid, ("", "")),
            ("Queue", queue),
            ("Interface", interface),
            ("MemberName", member_name),
            ("HoldTime", "1"),
            ("TalkTime", "5"),
        ],
    )


def member_status(
    queue: str, member: tuple[str, str], status: str, calls_taken: int, name: str = ""
) -> Message:
    member_name, interface = member
    return Message.event(
        name or "QueueMemberStatus",
        [
            ("Privilege", "agent,all"),
            ("Queue", queue),
            ("MemberName", member_name),
            ("Interface", interface),
            ("StateInterface", interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", str(calls_taken)),
            ("LastCall", "0"),
            ("LastPause", "0"),
            ("LoginTime", "0"),
            ("InCall", "0"),
            ("Status", status),
            ("Paused", "0"),
            ("PausedReason", ""),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ],
    )


def queue_params(
    queue: str, action_id: str, *, completed: int = 0, abandoned: int = 0, calls: int = 0
) -> Message:
    return Message.event(
        "QueueParams",
        [
            ("Queue", queue),
            ("Max", "0"),
            ("Strategy", "rrmemory"),
            ("Calls", str(calls)),
            ("Holdtime", "0"),
            ("TalkTime", "0"),
            ("Completed", str(completed)),
            ("Abandoned", str(abandoned)),
            ("ServiceLevel", "60"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
            ("ActionID", action_id),
        ],
    )


def queue_member(
    queue: str,
    member: tuple[str, str],
    action_id: str,
    *,
    status: str = "1",
    in_call: bool = False,
    calls_taken: int = 0,
) -> Message:
    name, interface = member
    return Message.event(
        "QueueMember",
        [
            ("Queue", queue),
            ("Name", name),
            ("Location", interface),
            ("StateInterface", interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", str(calls_taken)),
            ("LastCall", "0"),
            ("LastPause", "0"),
            ("LoginTime", "0"),
            ("InCall", "1" if in_call else "0"),
            ("Status", status),
            ("Paused", "0"),
            ("PausedReason", ""),
            ("Wrapuptime", "0"),
            ("ActionID", action_id),
        ],
    )


def queue_entry(
    queue: str,
    position: int,
    channel: str,
    uniqueid: str,
    caller: tuple[str, str],
    action_id: str,
    *,
    priority: int = 0,
    wait: int = 0,
) -> Message:
    number, name = caller
    return Message.event(
        "QueueEntry",
        [
            ("Queue", queue),
            ("Position", str(position)),
            ("Channel", channel),
            ("Uniqueid", uniqueid),
            ("CallerIDNum", number),
            ("CallerIDName", name),
            ("ConnectedLineNum", number),
            ("ConnectedLineName", name),
            ("Wait", str(wait)),
            ("Priority", str(priority)),
            ("ActionID", action_id),
        ],
    )


def core_show_channel(
    channel: str,
    uniqueid: str,
    action_id: str,
    *,
    caller: tuple[str, str] = ("0611111111", "Anne Client"),
    context: str = "hotline",
    duration: str = "00:00:00",
    bridge: str = "",
) -> Message:
    """A CoreShowChannel list item as Asterisk 22 writes it (ActionID second)."""
    number, name = caller
    return Message.event(
        "CoreShowChannel",
        [
            ("ActionID", action_id),
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
            ("Exten", "s"),
            ("Priority", "1"),
            ("Uniqueid", uniqueid),
            ("Linkedid", uniqueid),
            ("Application", "Queue"),
            ("ApplicationData", "experts"),
            ("Duration", duration),
            ("BridgeId", bridge),
        ],
    )


def list_complete(name: str, action_id: str, items: int) -> Message:
    return Message.event(
        name, [("ActionID", action_id), ("EventList", "Complete"), ("ListItems", str(items))]
    )


def configure(live: LiveState, queues: dict[str, list[tuple[str, str]]]) -> None:
    """Starts `live` as the server does, from the PBX's QueueStatus: `queues` maps each
    configured queue to its members (name, interface), all idle."""
    items: list[Message] = []
    for queue, members in queues.items():
        items.append(queue_params(queue, "boot"))
        items.extend(queue_member(queue, member, "boot") for member in members)
    live.rebuild(items, [])


#: The lab's queues and members (ami-traces/configs/queues.conf).
LAB_QUEUES = {
    "coordinators": [
        ("Alice Martin", "Local/agent1@agents"),
        ("Bruno Petit", "Local/agent2@agents"),
    ],
    "experts": [("Chloe Bernard", "Local/agent3@agents"), ("David Moreau", "Local/agent4@agents")],
    "oncall": [("Emma Laurent", "Local/agent5@agents")],
}


def lab(clock: FakeClock) -> LiveState:
    """The state as the server starts it against the lab PBX: from its QueueStatus."""
    live = LiveState(clock)
    configure(live, LAB_QUEUES)
    return live
