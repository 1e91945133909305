"""The JSON shapes of the supervision routes (/health, /api/queues, /api/calls), and how
each is cut down to what a role may see (callrouter.http.access)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from callrouter.http.access import (
    Visibility,
    mask_account_numbers,
    mask_caller_id,
    mask_numbers_in,
)
from callrouter.http.fields import Instant
from callrouter.live.state import DEFAULT_PAGE
from callrouter.live.views import LiveCall as LiveChannel
from callrouter.live.views import QueueMember as Member
from callrouter.live.views import QueueView
from callrouter.live.views import WaitingCaller as Waiting

MAX_RECENT = 500


class Health(BaseModel):
    """The PBX link is up."""

    status: Literal["ok", "degraded"]
    ami: Literal["up", "down"]

    def http_status(self, declared: int) -> int:
        # 503 lets a load balancer or a supervisor's probe see that the PBX link is down.
        return declared if self.ami == "up" else 503


class WaitingCaller(BaseModel):
    channel: str
    uniqueid: str
    caller_id: str = Field(description="Masked (06 •• •• •5 78) unless the role sees numbers.")
    caller_name: str | None = Field(description="Null unless the role sees names.")
    queue: str
    position: int
    priority: int | None
    joined_at: Instant
    waiting_seconds: int
    offered_to: list[str]


class QueueMember(BaseModel):
    interface: str
    name: str
    state: str
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int
    available: bool


class Queue(BaseModel):
    name: str
    members: list[QueueMember]
    callers: list[WaitingCaller] = Field(description="One page, in position order.")
    waiting: int = Field(description="How many callers wait, listed or not.")
    next_after: str | None = Field(description="The `after` of the next page; null on the last.")
    longest_wait_seconds: int
    available: int
    completed: int
    abandoned: int


class LiveQueues(BaseModel):
    """The queues as the PBX reports them now."""

    at: Instant
    queues: list[Queue]


class LiveCall(BaseModel):
    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    caller_name: str | None
    state: str
    context: str
    exten: str
    started_at: Instant
    duration_seconds: int
    queue: str | None
    agent: str | None


class Decision(BaseModel):
    """One routing decision; a failed PIN attempt's typed account number is shown only to
    roles that see account numbers."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    account_number: str | None
    caller_status: str
    chosen_pass: str | None
    window: str
    target: str
    queue: str | None
    queue_priority: int | None
    reason: str
    arrived_at: Instant | None
    decided_at: Instant
    latency_ms: float
    failsafe: bool


class LiveCalls(BaseModel):
    """Live calls, newest decisions first."""

    at: Instant
    live: list[LiveCall] = Field(description="One page, in the order the router learned them.")
    live_total: int
    next_after: str | None = Field(description="The `after` of the next page; null on the last.")
    recent_decisions: list[Decision]


#: Most callers or calls one page lists: a view of 50,000 waiting callers is read page by page.
MAX_PAGE = 1000
_LIMIT = Field(ge=1, le=MAX_PAGE, description="How many waiting callers or live calls per page.")


class QueuesQuery(BaseModel, extra="forbid"):
    limit: Annotated[int, _LIMIT] = DEFAULT_PAGE
    queue: Annotated[str | None, Field(description="Only this queue (needed with after).")] = None
    after: Annotated[
        str | None,
        Field(pattern=r"^-?[0-9]{1,18}:[0-9]{1,18}$", description="next_after of a page."),
    ] = None


class CallsQuery(BaseModel, extra="forbid"):
    recent: Annotated[
        int,
        Field(ge=0, le=MAX_RECENT, description="How many of the latest routing decisions."),
    ] = 20
    limit: Annotated[int, _LIMIT] = DEFAULT_PAGE
    after: Annotated[
        str | None, Field(pattern=r"^[0-9]{1,18}$", description="next_after of a page.")
    ] = None


def _caller_id(value: str, seen: Visibility) -> str:
    return value if seen.full_caller_ids else mask_caller_id(value)


def _numbers_in(value: str, seen: Visibility) -> str:
    # Channel names and extensions may carry the caller's number (Local/0612...@hotline).
    return value if seen.full_caller_ids else mask_numbers_in(value)


def _name(value: str, seen: Visibility) -> str | None:
    return value if seen.caller_names else None


def waiting_caller(caller: Waiting, now: datetime, seen: Visibility) -> WaitingCaller:
    return WaitingCaller(
        channel=_numbers_in(caller.channel, seen),
        uniqueid=caller.uniqueid,
        caller_id=_caller_id(caller.caller_id, seen),
        caller_name=_name(caller.caller_name, seen),
        queue=caller.queue,
        position=caller.position,
        priority=caller.priority,
        joined_at=caller.joined_at,
        waiting_seconds=round(caller.waiting_seconds(now)),
        offered_to=list(caller.offered_to),
    )


def queue_member(member: Member) -> QueueMember:
    return QueueMember.model_validate(member.to_dict())


def queue(view: QueueView, now: datetime, seen: Visibility) -> Queue:
    return Queue(
        name=view.name,
        members=[queue_member(member) for member in view.members],
        callers=[waiting_caller(caller, now, seen) for caller in view.callers],
        waiting=view.waiting,
        next_after=view.next_after,
        longest_wait_seconds=round(view.longest_wait_seconds(now)),
        available=sum(1 for member in view.members if member.available),
        completed=view.completed,
        abandoned=view.abandoned,
    )


def live_call(call: LiveChannel, now: datetime, seen: Visibility) -> LiveCall:
    fields = call.to_dict(now) | {
        "channel": _numbers_in(call.channel, seen),
        "exten": _numbers_in(call.exten, seen),
        "caller_id": _caller_id(call.caller_id, seen),
        "caller_name": _name(call.caller_name, seen),
        "started_at": call.started_at,
    }
    return LiveCall.model_validate(fields)


def decision(record: dict[str, Any], seen: Visibility) -> Decision:
    made = Decision.model_validate(record)
    reason = made.reason if seen.account_numbers else mask_account_numbers(made.reason)
    hidden: dict[str, Any] = {
        "caller_id": _caller_id(made.caller_id, seen),
        "channel": _numbers_in(made.channel, seen),
        "reason": _numbers_in(reason, seen),
    }
    if not seen.account_numbers:
        hidden["account_number"] = None
    return made.model_copy(update=hidden)
