"""Feeds the queue figures from AMI events callrouter receives anyway (never an extra action),
and remembers when each caller was connected to an agent (the calls in progress).

A caller's wait runs from their QueueCallerJoin, on the router's clock like the rest of the
live view; when the join was not seen (callrouter started or reconnected while they waited),
the `HoldTime:` Asterisk puts on AgentConnect and QueueCallerAbandon is taken instead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from callrouter.ami.message import Message, MessageKind
from callrouter.clock import Clock
from callrouter.console.figures import QueueStatistics

#: Joins and connections remembered at most; the oldest, whose end never came, is forgotten.
_MAX_MOMENTS = 100_000

_OUTCOMES = frozenset({"QueueCallerJoin", "AgentConnect", "QueueCallerAbandon", "Hangup"})


class OutcomeTracker:
    def __init__(
        self,
        statistics: QueueStatistics,
        clock: Clock,
        known_queue: Callable[[str], bool],
        changed: Callable[[], None],
    ) -> None:
        self._statistics = statistics
        self._clock = clock
        self._known_queue = known_queue
        self._changed = changed
        self._joins: OrderedDict[str, datetime] = OrderedDict()
        # Callers connected to an agent: when (the live view knows the call, not this).
        self._connected: OrderedDict[str, datetime] = OrderedDict()

    def connected_at(self, uniqueid: str) -> datetime | None:
        """When the caller was connected to an agent, if callrouter saw it happen."""
        return self._connected.get(uniqueid)

    def on_event(self, event: Message) -> None:
        """AMI subscriber: cheap and synchronous."""
        name = event.name
        if name not in _OUTCOMES or event.kind is not MessageKind.EVENT:
            return
        uniqueid = event.get("Uniqueid") or ""
        if name == "Hangup":
            self._joins.pop(uniqueid, None)
            self._connected.pop(uniqueid, None)
            return
        queue = event.get("Queue") or ""
        if not uniqueid or not self._known_queue(queue):
            return
        now = self._clock.now()
        if name == "QueueCallerJoin":
            _remember(self._joins, uniqueid, now)
            return
        joined = self._joins.pop(uniqueid, None)
        wait = (now - joined).total_seconds() if joined is not None else _hold_time(event)
        if name == "AgentConnect":
            _remember(self._connected, uniqueid, now)
            self._statistics.answered(queue, now, wait)
        else:
            self._statistics.abandoned(queue, now, wait)
        self._changed()


def _remember(moments: OrderedDict[str, datetime], uniqueid: str, now: datetime) -> None:
    moments[uniqueid] = now
    moments.move_to_end(uniqueid)
    if len(moments) > _MAX_MOMENTS:
        moments.popitem(last=False)


def _hold_time(event: Message) -> float:
    try:
        return max(0.0, float(event.get("HoldTime") or 0))
    except ValueError:
        return 0.0
