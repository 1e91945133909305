"""Feeds the queue figures from AMI events callrouter receives anyway (never an extra action).

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

#: Joins remembered at most; an older one whose outcome never came is forgotten.
_MAX_JOINS = 100_000

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

    def on_event(self, event: Message) -> None:
        """AMI subscriber: cheap and synchronous."""
        name = event.name
        if name not in _OUTCOMES or event.kind is not MessageKind.EVENT:
            return
        uniqueid = event.get("Uniqueid") or ""
        if name == "Hangup":
            self._joins.pop(uniqueid, None)
            return
        queue = event.get("Queue") or ""
        if not uniqueid or not self._known_queue(queue):
            return
        now = self._clock.now()
        if name == "QueueCallerJoin":
            self._joins[uniqueid] = now
            if len(self._joins) > _MAX_JOINS:
                self._joins.popitem(last=False)
            return
        joined = self._joins.pop(uniqueid, None)
        wait = (now - joined).total_seconds() if joined is not None else _hold_time(event)
        if name == "AgentConnect":
            self._statistics.answered(queue, now, wait)
        else:
            self._statistics.abandoned(queue, now, wait)
        self._changed()


def _hold_time(event: Message) -> float:
    try:
        return max(0.0, float(event.get("HoldTime") or 0))
    except ValueError:
        return 0.0
