"""The mutable records behind the live view: channels, waiting callers, members, queues.

`LiveState` owns them and hands out frozen views (views.py). A queue keeps its callers in a
sorted container keyed by (queue priority, arrival), the order app_queue serves them in, so a
caller joining anywhere in a queue of 50,000 costs O(log n), and a position is a rank.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime

from sortedcontainers import SortedKeyList

from callrouter.ami.message import Message
from callrouter.live.views import CallerCard, LiveCall, QueueMember, WaitingCaller

#: `Local/agent3@agents-00000002;1` or `PJSIP/alice-0000001f`: interface, then the channel
#: sequence number (hex) and, for Local channels, the half.
_CHANNEL_NAME = re.compile(r"^(?P<interface>.+)-[0-9a-fA-F]+(?:;\d+)?$")

#: What Asterisk writes for a caller ID it does not have (the `;1` half of an Originate).
_UNKNOWN = "<unknown>"

#: Numbers every change of any queue's callers: a queue's `changes` is unique over the
#: process (a rebuild's new queue does not start again at a number a reader remembers).
_CHANGES = itertools.count(1)

#: The stand-in caller of a member that a rebuild found in a call whose caller it could not
#: see (no bridge in CoreShowChannels): its AgentComplete still closes that call.
UNSEEN_CALLER = ""


def interface_of(channel: str) -> str:
    """The device interface a channel was created on (`Local/agent3@agents-00000002;1` ->
    `Local/agent3@agents`): how a queue member is found behind a bridged channel."""
    match = _CHANNEL_NAME.match(channel)
    return match.group("interface") if match else channel


def caller_id_of(value: str | None) -> str:
    """A caller ID number or name as shown: empty when Asterisk does not know it."""
    return "" if value is None or value == _UNKNOWN else value


class Channel:
    __slots__ = (
        "agent",
        "caller_id",
        "caller_name",
        "channel",
        "context",
        "exten",
        "linkedid",
        "priority",
        "queue",
        "seq",
        "started_at",
        "state",
        "uniqueid",
    )

    def __init__(self, event: Message, uniqueid: str, started_at: datetime, seq: int) -> None:
        self.channel = event.get("Channel") or ""
        self.uniqueid = uniqueid
        self.linkedid = event.get("Linkedid") or uniqueid
        self.caller_id = caller_id_of(event.get("CallerIDNum"))
        self.caller_name = caller_id_of(event.get("CallerIDName"))
        self.state = event.get("ChannelStateDesc") or ""
        self.context = event.get("Context") or ""
        self.exten = event.get("Exten") or ""
        self.started_at = started_at
        # The order calls are listed in (and the paging cursor): when the router learned them.
        self.seq = seq
        self.queue: str | None = None
        self.agent: str | None = None
        # The last queue priority the dialplan set on this channel (QUEUE_PRIO / HotlineQueued),
        # read when it joins a queue.
        self.priority: int | None = None

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


class Caller:
    __slots__ = (
        "_card",
        "caller_id",
        "caller_name",
        "channel",
        "joined_at",
        "offered_to",
        "order",
        "priority",
        "uniqueid",
    )

    def __init__(
        self,
        uniqueid: str,
        channel: str,
        caller_id: str,
        caller_name: str,
        priority: int | None,
        joined_at: datetime,
    ) -> None:
        self.uniqueid = uniqueid
        self.channel = channel
        self.caller_id = caller_id
        self.caller_name = caller_name
        self.priority = priority
        self.joined_at = joined_at
        self.offered_to: list[str] = []
        # (-queue priority, arrival): set by the queue when the caller is placed.
        self.order = (0, 0)
        self._card: CallerCard | None = None

    def card(self) -> CallerCard:
        """Who waits, made once (when first shown: a join on the AMI path does not pay for
        it); what it holds never changes while the caller waits."""
        card = self._card
        if card is None:
            card = self._card = CallerCard(
                uniqueid=self.uniqueid,
                caller_id=self.caller_id,
                caller_name=self.caller_name,
                priority=self.priority,
                joined_at=self.joined_at,
            )
        return card

    def view(self, queue: str, position: int) -> WaitingCaller:
        return WaitingCaller(
            channel=self.channel,
            uniqueid=self.uniqueid,
            caller_id=self.caller_id,
            caller_name=self.caller_name,
            queue=queue,
            position=position,
            priority=self.priority,
            joined_at=self.joined_at,
            offered_to=tuple(self.offered_to),
        )


def _order_of(caller: Caller) -> tuple[int, int]:
    return caller.order


def cursor_of(order: tuple[int, int]) -> str:
    """The paging cursor of a place in a queue: `priority:arrival`."""
    return f"{-order[0]}:{order[1]}"


def order_of_cursor(cursor: str) -> tuple[int, int]:
    """The place a cursor names; ValueError when it is not one."""
    priority, colon, arrival = cursor.rpartition(":")
    if not colon:
        raise ValueError(f"{cursor!r} is not a queue cursor")
    return (-int(priority), int(arrival))


class Member:
    __slots__ = (
        "calls",
        "calls_taken",
        "interface",
        "last_call",
        "name",
        "paused",
        "paused_reason",
        "released",
        "state",
    )

    def __init__(self, interface: str, name: str) -> None:
        self.interface = interface
        self.name = name
        self.state = "unknown"
        self.paused = False
        self.paused_reason = ""
        self.calls_taken = 0
        self.last_call: datetime | None = None
        # Queue calls connected to this member whose AgentComplete has not come yet: caller
        # uniqueid -> calls taken when it was connected. AgentComplete counts a call only if it
        # closes one of these, so an event a rebuild already reflects is not counted twice.
        self.calls: dict[str, int] = {}
        # The member's device went idle after the last connect: the caller was redirected out
        # of the bridge and Asterisk defers AgentComplete until the caller hangs up.
        self.released = False

    def close_counted_calls(self) -> int:
        """Closes the calls that `calls_taken` already counts; returns how many. Asterisk
        counts a queue call (the member's CallsTaken, the queue's Completed) when its bridge
        ends, and the member event that follows carries the new total. A caller redirected out
        of the bridge gets AgentComplete only when they hang up, minutes later: a call whose
        member has taken more calls since it was connected is over, counted then, once."""
        ended = 0
        for uniqueid, taken_before in sorted(self.calls.items(), key=lambda call: call[1]):
            if taken_before + ended >= self.calls_taken:
                break
            del self.calls[uniqueid]
            ended += 1
        return ended

    @property
    def in_call(self) -> bool:
        return bool(self.calls) and not self.released

    @property
    def available(self) -> bool:
        return not self.paused and not self.in_call and self.state == "idle"

    def view(self) -> QueueMember:
        return QueueMember(
            interface=self.interface,
            name=self.name,
            state=self.state,
            paused=self.paused,
            paused_reason=self.paused_reason,
            in_call=self.in_call,
            calls_taken=self.calls_taken,
            last_call=self.last_call,
        )


class Queue:
    """One configured queue: its members, its callers in service order and its counters."""

    __slots__ = (
        "_arrivals",
        "_by_arrival",
        "_callers",
        "abandoned",
        "changes",
        "completed",
        "members",
        "name",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.members: dict[str, Member] = {}
        self.completed = 0
        self.abandoned = 0
        self._callers: SortedKeyList[Caller, tuple[int, int]] = SortedKeyList(key=_order_of)
        # Join order (the first waited longest), and the callers by uniqueid.
        self._by_arrival: OrderedDict[str, Caller] = OrderedDict()
        self._arrivals = itertools.count(1)
        # A new number each time a caller is placed or leaves: the callers and their
        # positions are what they were as long as it has not moved.
        self.changes = next(_CHANGES)

    # -- callers ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_arrival)

    def caller(self, uniqueid: str) -> Caller | None:
        return self._by_arrival.get(uniqueid)

    def join(self, caller: Caller, position: int | None) -> None:
        """Places a caller as app_queue does: after every caller of the same or a higher
        priority. A caller whose priority is unknown takes that of the caller just ahead of
        the position Asterisk reported."""
        priority = caller.priority
        if priority is None:
            priority = self._priority_ahead_of(position)
        caller.order = (-priority, next(self._arrivals))
        self._place(caller)

    def restore(self, caller: Caller, rank_priority: int) -> None:
        """Places a caller listed by a rebuild, in the PBX's order: the rebuild passes
        priorities that never rise along the list, so arrival order keeps that order."""
        caller.order = (-rank_priority, next(self._arrivals))
        self._place(caller)

    def _place(self, caller: Caller) -> None:
        self._callers.add(caller)
        self._by_arrival[caller.uniqueid] = caller
        self.changes = next(_CHANGES)

    def _priority_ahead_of(self, position: int | None) -> int:
        callers = self._callers
        if not callers:
            return 0
        if position is None or position > len(callers):
            return -callers[-1].order[0]
        if position <= 1:
            # Ahead of everyone: one more than the first caller's priority.
            return -callers[0].order[0] + 1
        return -callers[position - 2].order[0]

    def leave(self, uniqueid: str) -> Caller | None:
        caller = self._by_arrival.pop(uniqueid, None)
        if caller is not None:
            self._callers.remove(caller)
            self.changes = next(_CHANGES)
        return caller

    def position_of(self, caller: Caller) -> int:
        return self._callers.bisect_key_left(caller.order) + 1

    def longest_waiting(self) -> Caller | None:
        for caller in self._by_arrival.values():
            return caller
        return None

    def page(self, after: tuple[int, int] | None, limit: int) -> tuple[int, Iterator[Caller]]:
        """(position of the first, callers) for at most `limit` callers after a place."""
        start = 0 if after is None else self._callers.bisect_key_right(after)
        return start + 1, self._callers.islice(start, start + limit)

    # -- members ---------------------------------------------------------------------------

    def member(self, interface: str, name: str | None) -> Member:
        """The member on `interface`, created when a member event or a rebuild names it."""
        member = self.members.get(interface)
        if member is None:
            member = self.members[interface] = Member(interface, name or interface)
        elif name:
            member.name = name
        return member

    def available_members(self) -> int:
        return sum(1 for member in self.members.values() if member.available)
