"""The JSON shapes of the callback routes, cut down to what each role may see."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from callrouter.callbacks.queries import AttemptView, CallbackView
from callrouter.callbacks.rules import Standing
from callrouter.http.access import Visibility, mask_caller_id
from callrouter.http.fields import Id, Instant

DEFAULT_PAGE = 50
MAX_PAGE = 200


class CallbacksQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    standing: Standing | None = Field(default=None, description="Only callbacks standing so.")
    after: Id | None = Field(
        default=None, description="The `next_after` of the previous page: the next ones."
    )
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE


class CallbackPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_id: Id


class CallbackRef(BaseModel):
    """The callback opened with a Pass 4H incident."""

    id: int
    due_at: Instant


class Attempt(BaseModel):
    id: int
    expert: str
    claimed_at: Instant = Field(description="Written before the PBX was asked to dial.")
    placed_at: Instant | None
    expert_answered_at: Instant | None
    customer_answered_at: Instant | None
    connected_at: Instant | None = Field(description="Expert and customer bridged.")
    ended_at: Instant | None
    outcome: str | None = Field(description="Null while the attempt is under way.")
    note: str


class _CallbackFields(BaseModel):
    id: int
    incident_id: int
    domain: str
    number: str = Field(description="Masked (06 •• •• •5 78) unless the role sees numbers.")
    standing: Standing
    opened_at: Instant
    due_at: Instant
    seconds_left: int = Field(description="Until the deadline; negative once it passed.")
    customer_tries: int
    warned_at: Instant | None
    connected_at: Instant | None
    breached_at: Instant | None = Field(description="Refunded then; the caller is still called.")
    closed_at: Instant | None
    close_reason: str | None


class CallbackSummary(_CallbackFields):
    attempts: int = Field(description="How many attempts so far.")


class CallbackDetail(_CallbackFields):
    """The callback, with every attempt, oldest first."""

    attempts: list[Attempt]


class CallbacksPage(BaseModel):
    """Callbacks by deadline, earliest first."""

    at: Instant
    callbacks: list[CallbackSummary]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


def _fields(view: CallbackView, seen: Visibility) -> dict[str, object]:
    return {
        "id": view.id,
        "incident_id": view.incident_id,
        "domain": view.domain,
        "number": view.number if seen.full_caller_ids else mask_caller_id(view.number),
        "standing": view.standing,
        "opened_at": view.opened_at,
        "due_at": view.due_at,
        "seconds_left": view.seconds_left,
        "customer_tries": view.customer_tries,
        "warned_at": view.warned_at,
        "connected_at": view.connected_at,
        "breached_at": view.breached_at,
        "closed_at": view.closed_at,
        "close_reason": view.close_reason,
    }


def summary(view: CallbackView, seen: Visibility) -> CallbackSummary:
    return CallbackSummary(**_fields(view, seen), attempts=view.attempt_count)  # type: ignore[arg-type]


def detail(view: CallbackView, seen: Visibility) -> CallbackDetail:
    return CallbackDetail(
        **_fields(view, seen),  # type: ignore[arg-type]
        attempts=[_attempt(attempt) for attempt in view.attempts],
    )


def _attempt(attempt: AttemptView) -> Attempt:
    return Attempt(
        id=attempt.id,
        expert=attempt.expert,
        claimed_at=attempt.claimed_at,
        placed_at=attempt.placed_at,
        expert_answered_at=attempt.expert_answered_at,
        customer_answered_at=attempt.customer_answered_at,
        connected_at=attempt.connected_at,
        ended_at=attempt.ended_at,
        outcome=attempt.outcome,
        note=attempt.note,
    )
