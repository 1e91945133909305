"""Read-only snapshots of the live state, as a supervisor sees them.

These are frozen values handed out by `LiveState`; the state itself keeps mutable records so
that the hot path (one AMI event) never rebuilds a dataclass it does not have to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Asterisk device states (enum ast_device_state), as `Status:` writes them in member events
#: and QueueMember list items.
DEVICE_STATES = {
    "0": "unknown",
    "1": "idle",
    "2": "in-use",
    "3": "busy",
    "4": "invalid",
    "5": "unavailable",
    "6": "ringing",
    "7": "ringing-in-use",
    "8": "on-hold",
}


def device_state(status: str | None) -> str:
    """The member state name for a `Status:` code ("unknown" for anything unexpected)."""
    return DEVICE_STATES.get(status or "", "unknown")


def _seconds(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds())


@dataclass(frozen=True)
class WaitingCaller:
    """A caller waiting in a queue.

    `priority` is the caller's queue priority (QUEUE_PRIO): higher is served first. It is None
    when unknown: QueueCallerJoin carries no queue priority (its `Priority:` header is the
    dialplan priority of the channel snapshot), so it comes from the last `QUEUE_PRIO` VarSet
    seen on the channel, or from a QueueStatus rebuild.
    `offered_to` names the members being rung for this caller right now (AgentCalled, until
    AgentRingNoAnswer or the caller leaves); a rebuild cannot see it and leaves it empty.
    """

    channel: str
    uniqueid: str
    caller_id: str
    caller_name: str
    queue: str
    position: int
    priority: int | None
    joined_at: datetime
    offered_to: tuple[str, ...] = ()

    def waiting_seconds(self, now: datetime) -> float:
        return _seconds(self.joined_at, now)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "uniqueid": self.uniqueid,
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "queue": self.queue,
            "position": self.position,
            "priority": self.priority,
            "joined_at": self.joined_at.isoformat(),
            "waiting_seconds": round(self.waiting_seconds(now)),
            "offered_to": list(self.offered_to),
        }


@dataclass(frozen=True, slots=True)
class CallerCard:
    """Who waits in a queue, without the place (which moves as others leave): what a
    console shows of a caller at every push, made once per caller."""

    uniqueid: str
    caller_id: str
    caller_name: str
    priority: int | None
    joined_at: datetime


@dataclass(frozen=True)
class QueueMember:
    """A member of one queue. `in_call` comes from AgentConnect/AgentComplete (member events
    keep `InCall: 0` while busy) or from the `InCall:` of a QueueStatus rebuild."""

    interface: str
    name: str
    state: str
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int
    #: When the member's last queue call ended (the PBX's `LastCall`); None if never.
    last_call: datetime | None = None

    @property
    def available(self) -> bool:
        """Could take a queue call now: not paused, idle, not in a call."""
        return not self.paused and not self.in_call and self.state == "idle"

    def to_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "name": self.name,
            "state": self.state,
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "in_call": self.in_call,
            "calls_taken": self.calls_taken,
            "available": self.available,
        }


@dataclass(frozen=True)
class QueueView:
    """One queue: members (by name), its counters, how many callers wait and since when the
    longest has waited, and one page of its callers in position order (`next_after` is the
    cursor of the next page, None on the last)."""

    name: str
    members: tuple[QueueMember, ...]
    callers: tuple[WaitingCaller, ...]
    completed: int
    abandoned: int
    waiting: int
    longest_waiting_since: datetime | None = None
    next_after: str | None = None

    def longest_wait_seconds(self, now: datetime) -> float:
        since = self.longest_waiting_since
        return 0.0 if since is None else _seconds(since, now)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.name,
            "members": [member.to_dict() for member in self.members],
            "callers": [caller.to_dict(now) for caller in self.callers],
            "waiting": self.waiting,
            "longest_wait_seconds": round(self.longest_wait_seconds(now)),
            "next_after": self.next_after,
            "available": sum(1 for member in self.members if member.available),
            "completed": self.completed,
            "abandoned": self.abandoned,
        }


@dataclass(frozen=True)
class QueueHead:
    """One queue as a console lists it at every push: its members (by name), how many
    callers wait, and `changes`, which moves whenever a caller joins or leaves it (any
    queue's, a rebuilt one's included, is a number never seen before): the callers
    (`LiveState.waiting_cards`) are the same, at the same places, while it stays."""

    name: str
    changes: int
    waiting: int
    members: tuple[QueueMember, ...]


@dataclass(frozen=True)
class LiveCall:
    """One live channel on the PBX. Both halves of a Local channel are listed; `linkedid`
    groups the legs of one call. `queue` is set while the channel waits in a queue, `agent`
    (member name) while it is connected to a queue member."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    caller_name: str
    state: str
    context: str
    exten: str
    started_at: datetime
    queue: str | None
    agent: str | None

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "state": self.state,
            "context": self.context,
            "exten": self.exten,
            "started_at": self.started_at.isoformat(),
            "duration_seconds": round(_seconds(self.started_at, now)),
            "queue": self.queue,
            "agent": self.agent,
        }


@dataclass(frozen=True)
class CallsPage:
    """One page of the live calls, in the order the router learned them (a rebuild lists them
    by start time); `next_after` is the cursor of the next page, None on the last."""

    calls: tuple[LiveCall, ...]
    total: int
    next_after: str | None = None
