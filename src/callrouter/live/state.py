"""The live call state: channels, callers waiting per queue, queue members.

Fed by AMI events as they arrive (`apply`, the hot path: about half of all events are VarSet,
so an event is dispatched on its name before any header is read) and rebuilt from the PBX's
status lists after a reconnect (`rebuild`), never from memory (SPEC.md, "How callrouter meets
the PBX").

What the AMI traces of Asterisk 22 show, and how it is handled here:
- QueueCallerJoin carries `Position` and `Count` but no queue priority: its `Priority:` header
  is the dialplan priority of the channel snapshot. The queue priority is the channel variable
  QUEUE_PRIO, read by Queue() when the caller joins, so the last `VarSet QUEUE_PRIO` seen on
  that channel is the caller's priority.
- Positions: a caller joining at position p pushes those at p and after back by one; a caller
  leaving closes the gap. Positions are therefore the order of a per-queue list.
- QueueChangePriorityCaller emits no event at all: the new order is only seen by a rebuild.
- QueueWithdrawCaller shows as QueueCallerAbandon (counted as abandoned) + QueueCallerLeave.
- Members are `MemberName`/`Interface` in member events but `Name`/`Location` in QueueMember
  list items. Member events keep `InCall: 0` while the member is busy, so being in a call is
  taken from AgentConnect/AgentComplete (and from `InCall:` in a rebuild).
- Asterisk 22 has no `QueueMemberPaused` event (Asterisk 11 called it so); pausing shows as
  `QueueMemberPause`.
- Completed/abandoned counters follow app_queue: AgentComplete counts a completed call (and
  one more call taken by the member), QueueCallerAbandon an abandoned one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import structlog

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import Clock
from callrouter.live.views import (
    LiveCall,
    QueueMember,
    QueueView,
    WaitingCaller,
    device_state,
)

__all__ = ["LiveCall", "LiveState", "QueueMember", "QueueView", "WaitingCaller"]

log = structlog.get_logger(__name__)

#: The exact line a VarSet of the queue priority carries; testing list membership for it is
#: much cheaper than indexing the headers of every VarSet.
_QUEUE_PRIO_LINE = "Variable: QUEUE_PRIO"

#: The list items of a QueueStatus answer that describe the queues.
_QUEUE_STATUS_ITEMS = frozenset({"QueueParams", "QueueMember", "QueueEntry"})

#: `Local/agent3@agents-00000002;1` or `PJSIP/alice-0000001f`: interface, then the channel
#: sequence number (hex) and, for Local channels, the half.
_CHANNEL_NAME = re.compile(r"^(?P<interface>.+)-[0-9a-fA-F]+(?:;\d+)?$")


def _to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _duration(value: str | None) -> timedelta:
    """`Duration: HH:MM:SS` of a CoreShowChannel item (zero when unreadable)."""
    parts = (value or "").split(":")
    numbers = [_to_int(part) for part in parts]
    if len(numbers) != 3 or any(number is None or number < 0 for number in numbers):
        return timedelta(0)
    hours, minutes, seconds = (number or 0 for number in numbers)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def interface_of(channel: str) -> str:
    """The device interface a channel was created on (`Local/agent3@agents-00000002;1` ->
    `Local/agent3@agents`): how a queue member is found behind a bridged channel."""
    match = _CHANNEL_NAME.match(channel)
    return match.group("interface") if match else channel


class _Channel:
    __slots__ = (
        "agent",
        "caller_id",
        "caller_name",
        "channel",
        "context",
        "exten",
        "linkedid",
        "queue",
        "started_at",
        "state",
        "uniqueid",
    )

    def __init__(self, event: Message, uniqueid: str, started_at: datetime) -> None:
        self.channel = event.get("Channel") or ""
        self.uniqueid = uniqueid
        self.linkedid = event.get("Linkedid") or uniqueid
        self.caller_id = event.get("CallerIDNum") or ""
        self.caller_name = event.get("CallerIDName") or ""
        self.state = event.get("ChannelStateDesc") or ""
        self.context = event.get("Context") or ""
        self.exten = event.get("Exten") or ""
        self.started_at = started_at
        self.queue: str | None = None
        self.agent: str | None = None

    def view(self) -> LiveCall:
        return LiveCall(
            channel=self.channel,
            uniqueid=self.uniqueid,
            linkedid=self.linkedid,
            caller_id=self.caller_id,
            caller_name=self.caller_name,
            state=self.state,
            context=self.context,
            exten=self.exten,
            started_at=self.started_at,
            queue=self.queue,
            agent=self.agent,
        )


class _Caller:
    __slots__ = ("caller_id", "caller_name", "channel", "joined_at", "offered_to", "priority")

    def __init__(
        self,
        channel: str,
        caller_id: str,
        caller_name: str,
        priority: int | None,
        joined_at: datetime,
    ) -> None:
        self.channel = channel
        self.caller_id = caller_id
        self.caller_name = caller_name
        self.priority = priority
        self.joined_at = joined_at
        self.offered_to: list[str] = []


class _Member:
    __slots__ = ("calls_taken", "in_call", "interface", "name", "paused", "paused_reason", "state")

    def __init__(self, interface: str, name: str) -> None:
        self.interface = interface
        self.name = name
        self.state = "unknown"
        self.paused = False
        self.paused_reason = ""
        self.in_call = False
        self.calls_taken = 0

    def view(self) -> QueueMember:
        return QueueMember(
            interface=self.interface,
            name=self.name,
            state=self.state,
            paused=self.paused,
            paused_reason=self.paused_reason,
            in_call=self.in_call,
            calls_taken=self.calls_taken,
        )


class _Queue:
    __slots__ = ("abandoned", "callers", "completed", "members", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.members: dict[str, _Member] = {}
        # Callers by uniqueid, in position order (dicts keep insertion order; a join at a
        # given position rebuilds the dict, which is rare and small).
        self.callers: dict[str, _Caller] = {}
        self.completed = 0
        self.abandoned = 0

    def insert(self, uniqueid: str, caller: _Caller, position: int | None) -> None:
        self.callers.pop(uniqueid, None)
        if position is None or position > len(self.callers):
            self.callers[uniqueid] = caller
            return
        ordered = list(self.callers.items())
        ordered.insert(max(position - 1, 0), (uniqueid, caller))
        self.callers = dict(ordered)

    def member(self, interface: str, name: str | None) -> _Member:
        member = self.members.get(interface)
        if member is None:
            member = self.members[interface] = _Member(interface, name or interface)
        elif name:
            member.name = name
        return member

    def view(self) -> QueueView:
        return QueueView(
            name=self.name,
            members=tuple(
                member.view()
                for member in sorted(self.members.values(), key=lambda m: (m.name, m.interface))
            ),
            callers=tuple(
                WaitingCaller(
                    channel=caller.channel,
                    uniqueid=uniqueid,
                    caller_id=caller.caller_id,
                    caller_name=caller.caller_name,
                    queue=self.name,
                    position=position,
                    priority=caller.priority,
                    joined_at=caller.joined_at,
                    offered_to=tuple(caller.offered_to),
                )
                for position, (uniqueid, caller) in enumerate(self.callers.items(), start=1)
            ),
            completed=self.completed,
            abandoned=self.abandoned,
        )


class LiveState:
    """Live calls, callers waiting per queue and queue members, as the PBX reports them."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._queues: dict[str, _Queue] = {}
        self._channels: dict[str, _Channel] = {}
        # uniqueid -> last QUEUE_PRIO set on that channel, read when it joins a queue.
        self._priorities: dict[str, int] = {}
        self._subscribers: list[Callable[[], None]] = []
        member_event = self._on_member
        self._handlers: dict[str, Callable[[Message], bool]] = {
            "VarSet": self._on_var_set,
            "UserEvent": self._on_user_event,
            "Newexten": self._on_newexten,
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "NewCallerid": self._on_newstate,
            "Hangup": self._on_hangup,
            "QueueCallerJoin": self._on_caller_join,
            "QueueCallerLeave": self._on_caller_leave,
            "QueueCallerAbandon": self._on_caller_abandon,
            "AgentCalled": self._on_agent_called,
            "AgentRingNoAnswer": self._on_agent_ring_no_answer,
            "AgentConnect": self._on_agent_connect,
            "AgentComplete": self._on_agent_complete,
            "QueueMemberStatus": member_event,
            "QueueMemberPause": member_event,
            "QueueMemberAdded": member_event,
            "QueueMemberPenalty": member_event,
            "QueueMemberRinginuse": member_event,
            "QueueMemberRemoved": self._on_member_removed,
        }

    # -- feeding -------------------------------------------------------------------------

    def apply(self, event: Message) -> None:
        """Take one AMI event into account; anything irrelevant or malformed is ignored."""
        handler = self._handlers.get(event.name)
        if handler is None or event.kind is not MessageKind.EVENT:
            return
        if handler(event):
            self._notify()

    def rebuild(self, queue_status: Sequence[Message], channels: Sequence[Message]) -> None:
        """Replace everything with what the PBX says now: the items of a QueueStatus list
        (QueueParams, QueueMember, QueueEntry) and of a CoreShowChannels list
        (CoreShowChannel). Other messages in the sequences (responses, `...Complete`) are
        skipped."""
        now = self._clock.now()
        queues: dict[str, _Queue] = {}
        entries: list[tuple[int, Message]] = []
        for item in queue_status:
            if item.kind is not MessageKind.EVENT or item.name not in _QUEUE_STATUS_ITEMS:
                continue
            name = item.get("Queue")
            if not name:
                continue
            queue = queues.get(name) or queues.setdefault(name, _Queue(name))
            if item.name == "QueueParams":
                queue.completed = _to_int(item.get("Completed")) or 0
                queue.abandoned = _to_int(item.get("Abandoned")) or 0
            elif item.name == "QueueMember":
                interface = item.get("Location")
                if interface:
                    member = queue.member(interface, item.get("Name"))
                    self._member_snapshot(member, item)
                    member.in_call = item.get("InCall") == "1"
            elif item.name == "QueueEntry":
                entries.append((_to_int(item.get("Position")) or 0, item))

        calls: dict[str, _Channel] = {}
        bridges: dict[str, list[_Channel]] = {}
        for item in channels:
            if item.kind is not MessageKind.EVENT or item.name != "CoreShowChannel":
                continue
            uniqueid = item.get("Uniqueid")
            if not uniqueid:
                continue
            call = calls[uniqueid] = _Channel(item, uniqueid, now - _duration(item.get("Duration")))
            bridge = item.get("BridgeId")
            if bridge:
                bridges.setdefault(bridge, []).append(call)

        for _, entry in sorted(entries, key=lambda pair: pair[0]):
            uniqueid = entry.get("Uniqueid")
            if not uniqueid:
                continue
            queue = queues[entry["Queue"]]
            wait = _to_int(entry.get("Wait")) or 0
            caller = _Caller(
                channel=entry.get("Channel") or "",
                caller_id=entry.get("CallerIDNum") or "",
                caller_name=entry.get("CallerIDName") or "",
                priority=_to_int(entry.get("Priority")),
                joined_at=now - timedelta(seconds=wait),
            )
            queue.insert(uniqueid, caller, None)
            waiting = calls.get(uniqueid)
            if waiting is not None:
                waiting.queue = queue.name

        self._link_agents(queues, bridges.values())
        self._queues = queues
        self._channels = calls
        self._priorities = {}
        log.info(
            "live.rebuilt",
            queues=len(queues),
            waiting=sum(len(queue.callers) for queue in queues.values()),
            calls=len(calls),
        )
        self._notify()

    @staticmethod
    def _link_agents(queues: dict[str, _Queue], bridges: Iterable[list[_Channel]]) -> None:
        """A channel bridged with a queue member's channel is connected to that agent."""
        names: dict[str, str] = {}
        for queue in queues.values():
            for member in queue.members.values():
                names.setdefault(member.interface, member.name)
        for bridged in bridges:
            agents = [names[i] for i in (interface_of(c.channel) for c in bridged) if i in names]
            if not agents:
                continue
            for call in bridged:
                if interface_of(call.channel) not in names:
                    call.agent = agents[0]

    # -- reading -------------------------------------------------------------------------

    def queues(self) -> list[QueueView]:
        return [self._queues[name].view() for name in sorted(self._queues)]

    def queue(self, name: str) -> QueueView | None:
        queue = self._queues.get(name)
        return queue.view() if queue is not None else None

    def calls(self) -> list[LiveCall]:
        ordered = sorted(self._channels.values(), key=lambda c: (c.started_at, c.channel))
        return [call.view() for call in ordered]

    def knows_queue(self, name: str) -> bool:
        return name in self._queues

    def queue_load(self, name: str) -> tuple[int, int, int]:
        """(members, available members, waiting callers) of a queue; zeros if unknown."""
        queue = self._queues.get(name)
        if queue is None:
            return (0, 0, 0)
        available = sum(
            1
            for m in queue.members.values()
            if not m.paused and not m.in_call and m.state == "idle"
        )
        return (len(queue.members), available, len(queue.callers))

    def on_change(self, handler: Callable[[], None]) -> Callable[[], None]:
        """Call `handler` after each change a supervisor would see; returns the unsubscribe."""
        self._subscribers.append(handler)

        def unsubscribe() -> None:
            if handler in self._subscribers:
                self._subscribers.remove(handler)

        return unsubscribe

    def _notify(self) -> None:
        for handler in tuple(self._subscribers):
            try:
                handler()
            except Exception:
                # A broken subscriber must not stop the state from following the PBX.
                log.exception("live.subscriber_failed", handler=repr(handler))

    # -- channels ------------------------------------------------------------------------

    def _on_var_set(self, event: Message) -> bool:
        if _QUEUE_PRIO_LINE not in event.lines:
            return False
        uniqueid = event.get("Uniqueid")
        priority = _to_int(event.get("Value"))
        if uniqueid and priority is not None:
            self._priorities[uniqueid] = priority
        # Queue() reads QUEUE_PRIO when the caller joins: nothing visible changes now.
        return False

    def _on_user_event(self, event: Message) -> bool:
        # The production AMI user does not read the `dialplan` class (no VarSet): the
        # dialplan announces the priority with UserEvent(HotlineQueued) just before Queue().
        if event.get("UserEvent") != "HotlineQueued":
            return False
        uniqueid = event.get("Uniqueid")
        # Not `Priority:`: the channel snapshot already carries the dialplan priority.
        priority = _to_int(event.get("QueuePriority"))
        if uniqueid and priority is not None:
            self._priorities[uniqueid] = priority
        return False

    def _on_newexten(self, event: Message) -> bool:
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is None:
            return False
        context = event.get("Context") or ""
        exten = event.get("Exten") or ""
        if context == call.context and exten == call.exten:
            return False
        call.context = context
        call.exten = exten
        return True

    def _on_newchannel(self, event: Message) -> bool:
        uniqueid = event.get("Uniqueid")
        if not uniqueid:
            return False
        self._channels[uniqueid] = _Channel(event, uniqueid, self._clock.now())
        return True

    def _on_newstate(self, event: Message) -> bool:
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is None:
            return False
        call.state = event.get("ChannelStateDesc") or call.state
        call.caller_id = event.get("CallerIDNum") or call.caller_id
        call.caller_name = event.get("CallerIDName") or call.caller_name
        return True

    def _on_hangup(self, event: Message) -> bool:
        uniqueid = event.get("Uniqueid")
        if not uniqueid:
            return False
        self._priorities.pop(uniqueid, None)
        changed = self._channels.pop(uniqueid, None) is not None
        # Asterisk sends QueueCallerLeave before the Hangup; this only matters if it was lost.
        for queue in self._queues.values():
            if queue.callers.pop(uniqueid, None) is not None:
                changed = True
        return changed

    # -- callers -------------------------------------------------------------------------

    def _queue_of(self, event: Message, key: str) -> tuple[_Queue, str] | None:
        """The queue an event is about (known from then on) and the value of `key`, or None
        when either is missing: a malformed event must not invent a queue."""
        name = event.get("Queue")
        value = event.get(key)
        if not name or not value:
            return None
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue(name)
        return queue, value

    def _on_caller_join(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        if found is None:
            return False
        queue, uniqueid = found
        caller = _Caller(
            channel=event.get("Channel") or "",
            caller_id=event.get("CallerIDNum") or "",
            caller_name=event.get("CallerIDName") or "",
            priority=self._priorities.get(uniqueid),
            joined_at=self._clock.now(),
        )
        queue.insert(uniqueid, caller, _to_int(event.get("Position")))
        call = self._channels.get(uniqueid)
        if call is not None:
            call.queue = queue.name
        return True

    def _on_caller_leave(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        if found is None:
            return False
        queue, uniqueid = found
        left = queue.callers.pop(uniqueid, None) is not None
        call = self._channels.get(uniqueid)
        if call is not None and call.queue == queue.name:
            call.queue = None
            left = True
        return left

    def _on_caller_abandon(self, event: Message) -> bool:
        found = self._queue_of(event, "Uniqueid")
        if found is None:
            return False
        found[0].abandoned += 1
        return True

    def _offered(self, event: Message) -> tuple[_Caller, str] | None:
        found = self._queue_of(event, "Uniqueid")
        agent = event.get("MemberName") or event.get("Interface")
        if found is None or not agent:
            return None
        queue, uniqueid = found
        caller = queue.callers.get(uniqueid)
        return None if caller is None else (caller, agent)

    def _on_agent_called(self, event: Message) -> bool:
        offered = self._offered(event)
        if offered is None or offered[1] in offered[0].offered_to:
            return False
        offered[0].offered_to.append(offered[1])
        return True

    def _on_agent_ring_no_answer(self, event: Message) -> bool:
        offered = self._offered(event)
        if offered is None or offered[1] not in offered[0].offered_to:
            return False
        offered[0].offered_to.remove(offered[1])
        return True

    def _on_agent_connect(self, event: Message) -> bool:
        found = self._queue_of(event, "Interface")
        if found is None:
            return False
        queue, interface = found
        member = queue.member(interface, event.get("MemberName"))
        member.in_call = True
        uniqueid = event.get("Uniqueid") or ""
        queue.callers.pop(uniqueid, None)
        call = self._channels.get(uniqueid)
        if call is not None:
            call.agent = member.name
            call.queue = None
        return True

    def _on_agent_complete(self, event: Message) -> bool:
        found = self._queue_of(event, "Interface")
        if found is None:
            return False
        queue, interface = found
        member = queue.member(interface, event.get("MemberName"))
        member.in_call = False
        member.calls_taken += 1
        queue.completed += 1
        call = self._channels.get(event.get("Uniqueid") or "")
        if call is not None:
            call.agent = None
        return True

    # -- members -------------------------------------------------------------------------

    @staticmethod
    def _member_snapshot(member: _Member, event: Message) -> None:
        member.state = device_state(event.get("Status"))
        member.paused = event.get("Paused") == "1"
        member.paused_reason = event.get("PausedReason") or ""
        calls_taken = _to_int(event.get("CallsTaken"))
        if calls_taken is not None:
            member.calls_taken = calls_taken

    def _on_member(self, event: Message) -> bool:
        found = self._queue_of(event, "Interface")
        if found is None:
            return False
        queue, interface = found
        member = queue.member(interface, event.get("MemberName"))
        self._member_snapshot(member, event)
        # Member events say `InCall: 0` even mid-call: only a `1` is news.
        if event.get("InCall") == "1":
            member.in_call = True
        return True

    def _on_member_removed(self, event: Message) -> bool:
        queue = self._queues.get(event.get("Queue") or "")
        interface = event.get("Interface")
        if queue is None or not interface:
            return False
        return queue.members.pop(interface, None) is not None
