"""Reading the PBX's status lists (QueueStatus, CoreShowChannels) into live records.

Pure functions over list items: `LiveState.rebuild` installs what they build, and the periodic
member resynchronisation (sync.py) reuses the member and counter rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from callrouter.ami.message import Message, MessageKind
from callrouter.live.records import (
    UNSEEN_CALLER,
    Caller,
    Channel,
    Member,
    Queue,
    caller_id_of,
    interface_of,
)
from callrouter.live.views import device_state

#: The list items of a QueueStatus answer that describe the queues.
QUEUE_STATUS_ITEMS = frozenset({"QueueParams", "QueueMember", "QueueEntry"})


def to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def duration(value: str | None) -> timedelta:
    """`Duration: HH:MM:SS` of a CoreShowChannel item (zero when unreadable)."""
    parts = (value or "").split(":")
    numbers = [to_int(part) for part in parts]
    if len(numbers) != 3 or any(number is None or number < 0 for number in numbers):
        return timedelta(0)
    hours, minutes, seconds = (number or 0 for number in numbers)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def counters_row(queue: Queue, item: Message) -> None:
    """A QueueParams list item: the queue's two counters as the PBX counts them."""
    queue.completed = to_int(item.get("Completed")) or 0
    queue.abandoned = to_int(item.get("Abandoned")) or 0


def member_status(member: Member, event: Message) -> None:
    """What a member event or a QueueMember item says of the member, `InCall` aside."""
    member.state = device_state(event.get("Status"))
    member.paused = event.get("Paused") == "1"
    member.paused_reason = event.get("PausedReason") or ""
    calls_taken = to_int(event.get("CallsTaken"))
    if calls_taken is not None:
        member.calls_taken = calls_taken
    last_call = to_int(event.get("LastCall"))
    if last_call is not None:
        member.last_call = _epoch(last_call)


def _epoch(seconds: int) -> datetime | None:
    """`LastCall`: epoch seconds of the PBX's clock, 0 until the member's first call ends;
    a mangled value is no time at all rather than a crash of the live view."""
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def member_row(queue: Queue, item: Message) -> Member | None:
    """A QueueMember list item: the member as the PBX sees it now (its `InCall:` is true
    there, unlike in member events)."""
    interface = item.get("Location")
    if not interface:
        return None
    member = queue.member(interface, item.get("Name"))
    member_status(member, item)
    if item.get("InCall") == "1":
        member.released = False
        if not member.calls:
            member.calls[UNSEEN_CALLER] = member.calls_taken
    elif member.calls:
        member.released = True
    return member


def queues_of(queue_status: Sequence[Message]) -> tuple[dict[str, Queue], list[Message]]:
    """The queues a QueueStatus answer lists, with members and counters, and its
    QueueEntry items (callers) in position order. Other messages are skipped."""
    queues: dict[str, Queue] = {}
    entries: list[tuple[int, Message]] = []
    for item in queue_status:
        if item.kind is not MessageKind.EVENT or item.name not in QUEUE_STATUS_ITEMS:
            continue
        name = item.get("Queue")
        if not name:
            continue
        queue = queues.get(name) or queues.setdefault(name, Queue(name))
        if item.name == "QueueParams":
            counters_row(queue, item)
        elif item.name == "QueueMember":
            member_row(queue, item)
        else:
            entries.append((to_int(item.get("Position")) or 0, item))
    return queues, [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


def channel_rows(channels: Sequence[Message], now: datetime) -> list[tuple[datetime, Message]]:
    """The CoreShowChannel items of a CoreShowChannels answer with their start times, oldest
    first. Other messages are skipped."""
    listed = [
        (now - duration(item.get("Duration")), item)
        for item in channels
        if item.kind is MessageKind.EVENT
        and item.name == "CoreShowChannel"
        and item.get("Uniqueid")
    ]
    return sorted(listed, key=lambda row: row[0])


def restore_callers(
    queues: dict[str, Queue], entries: list[Message], channels: dict[str, Channel], now: datetime
) -> None:
    """Places the QueueEntry callers (in position order) in their queues."""
    # Arrival order is join time (the longest wait first); rank priorities never rise
    # along each queue, so the sorted order is the PBX's position order.
    placed: list[tuple[Queue, Caller, int]] = []
    seen: set[tuple[str, str]] = set()
    ranks: dict[str, int] = {}
    for entry in entries:
        uniqueid = entry.get("Uniqueid")
        queue = queues[entry.get("Queue") or ""]
        if not uniqueid or (queue.name, uniqueid) in seen:
            continue
        seen.add((queue.name, uniqueid))
        priority = to_int(entry.get("Priority"))
        rank = min(priority or 0, ranks.get(queue.name, priority or 0))
        ranks[queue.name] = rank
        caller = Caller(
            uniqueid=uniqueid,
            channel=entry.get("Channel") or "",
            caller_id=caller_id_of(entry.get("CallerIDNum")),
            caller_name=caller_id_of(entry.get("CallerIDName")),
            priority=priority,
            joined_at=now - timedelta(seconds=to_int(entry.get("Wait")) or 0),
        )
        placed.append((queue, caller, rank))
    for queue, caller, rank in sorted(placed, key=lambda row: row[1].joined_at):
        queue.restore(caller, rank)
        waiting = channels.get(caller.uniqueid)
        if waiting is not None:
            waiting.queue = queue.name


def link_agents(queues: dict[str, Queue], bridges: Iterable[list[Channel]]) -> None:
    """A channel bridged with a queue member's channel is connected to that agent; a member
    the PBX says is in a call holds that caller's call (or an unseen one)."""
    members: dict[str, list[Member]] = {}
    for queue in queues.values():
        for member in queue.members.values():
            members.setdefault(member.interface, []).append(member)
    for bridged in bridges:
        if any(c.channel.endswith(";2") and interface_of(c.channel) in members for c in bridged):
            # The `;2` half of a Local member dials the agent's phone: that bridge holds the
            # member's own leg and the phone, not the caller (who is with the `;1` half).
            continue
        agents = [members[i] for i in (interface_of(c.channel) for c in bridged) if i in members]
        if not agents:
            continue
        callers = [c for c in bridged if interface_of(c.channel) not in members]
        for call in callers:
            call.agent = agents[0][0].name
        for member in agents[0]:
            if member.calls and callers:
                member.calls = {callers[0].uniqueid: member.calls.popitem()[1]}
