"""The 4-hour callback guarantee as pure rules (no I/O).

seeds/000_0e15b6772b2a7f9e.txt, Pass délai 4H: "Nous garantissons un rappel d'un expert du
domaine demandé dans les 4 heures, au delà desquelles le cas d'assistance sera gratuit."
SPEC "Pass 4H": the guarantee is met when expert and customer are connected, not when
dialling starts; the 4 hours run in coordinator business hours (choice), wall clock as a
setting; a missed deadline refunds the incident once and the customer is still called.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callrouter.calendar import Window, add_business_time


class GuaranteeClock(enum.StrEnum):
    BUSINESS_HOURS = "business-hours"
    WALL_CLOCK = "wall-clock"


@dataclass(frozen=True)
class CallbackPolicy:
    """Defaults from SPEC "Pass 4H" and the callback issue; every one is configurable."""

    guarantee: timedelta = timedelta(hours=4)
    clock: GuaranteeClock = GuaranteeClock.BUSINESS_HOURS
    #: Customer did not answer or was busy: try again this much later.
    retry_delay: timedelta = timedelta(minutes=10)
    #: Tries that reached the customer's phone; then a supervisor takes over.
    max_customer_tries: int = 6
    #: A supervisor is warned this long before the deadline when nothing is under way.
    warn_before: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.guarantee <= timedelta(0):
            raise ValueError("the callback guarantee must be a positive duration")
        if self.retry_delay < timedelta(0) or self.warn_before < timedelta(0):
            raise ValueError("callback delays cannot be negative")
        if self.max_customer_tries < 1:
            raise ValueError("a callback needs at least one try")


def due_at(policy: CallbackPolicy, window: Window, opened_at: datetime) -> datetime:
    """The deadline of a callback whose incident opened at `opened_at`.

    In business-hours mode a call at 17:00 (coordinators 08:00-18:00) is due at 11:00 the
    next business day; a Friday 16:00 call before a holiday Monday is due Tuesday 10:00.
    """
    if opened_at.tzinfo is None:
        raise ValueError("a callback opens at a timezone-aware instant")
    if policy.clock is GuaranteeClock.WALL_CLOCK:
        # In UTC: adding hours to a local time would add wall hours across a DST change.
        return opened_at.astimezone(UTC) + policy.guarantee
    return add_business_time(window, opened_at, policy.guarantee)


class Outcome(enum.StrEnum):
    """How one attempt ended, leg by leg (recorded with the attempt)."""

    EXPERT_NO_ANSWER = "expert-no-answer"
    EXPERT_BUSY = "expert-busy"
    CUSTOMER_NO_ANSWER = "customer-no-answer"
    CUSTOMER_BUSY = "customer-busy"
    CONNECTED = "connected"
    FAILED = "failed"


#: OriginateResponse `Reason` of the expert's leg (shared/ami-traces 05): 4 answered,
#: 3 no answer, 5 busy, 0 failed (no such extension, unknown technology); Asterisk also
#: uses 1 (hung up while ringing) and 8 (congestion).
_EXPERT_REASONS = {
    1: Outcome.EXPERT_NO_ANSWER,
    3: Outcome.EXPERT_NO_ANSWER,
    5: Outcome.EXPERT_BUSY,
    8: Outcome.EXPERT_BUSY,
}


def expert_leg_outcome(reason: int) -> Outcome | None:
    """None when the expert answered (reason 4): the customer is dialled next."""
    if reason == 4:
        return None
    return _EXPERT_REASONS.get(reason, Outcome.FAILED)


#: DialEnd `DialStatus` of the customer's leg, dialled from the expert's channel.
_CUSTOMER_STATUSES = {
    "ANSWER": Outcome.CONNECTED,
    "NOANSWER": Outcome.CUSTOMER_NO_ANSWER,
    "BUSY": Outcome.CUSTOMER_BUSY,
    "CONGESTION": Outcome.CUSTOMER_BUSY,
    "CHANUNAVAIL": Outcome.CUSTOMER_BUSY,
}


def customer_leg_outcome(dial_status: str) -> Outcome:
    """CANCEL (the expert hung up while it rang) and anything unknown are failures."""
    return _CUSTOMER_STATUSES.get(dial_status.strip().upper(), Outcome.FAILED)


class StepKind(enum.StrEnum):
    DONE = "done"
    NEXT_EXPERT = "next-expert"
    RETRY_LATER = "retry-later"
    GIVE_UP = "give-up"


@dataclass(frozen=True)
class NextStep:
    kind: StepKind
    #: When the callback may be dialled again (RETRY_LATER, NEXT_EXPERT).
    not_before: datetime | None = None


def after_attempt(
    outcome: Outcome, customer_tries: int, policy: CallbackPolicy, now: datetime
) -> NextStep:
    """What follows an attempt. `customer_tries` counts this one if it rang the customer.

    The expert's side failing is not the customer's fault: another expert is tried at once
    and the customer's tries are not spent.
    """
    if outcome is Outcome.CONNECTED:
        return NextStep(StepKind.DONE)
    if outcome in (Outcome.EXPERT_NO_ANSWER, Outcome.EXPERT_BUSY, Outcome.FAILED):
        return NextStep(StepKind.NEXT_EXPERT, not_before=now)
    if customer_tries >= policy.max_customer_tries:
        return NextStep(StepKind.GIVE_UP)
    return NextStep(StepKind.RETRY_LATER, not_before=now + policy.retry_delay)


class Standing(enum.StrEnum):
    """What a supervisor sees of a callback."""

    PENDING = "pending"
    AT_RISK = "at-risk"
    DIALLING = "dialling"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CallbackFacts:
    due_at: datetime
    connected_at: datetime | None = None
    cancelled: bool = False
    attempt_under_way: bool = False


def is_breached(due: datetime, connected_at: datetime | None, now: datetime) -> bool:
    """Connected at 3h59 is met; not connected at 4h00 is breached; met late is breached."""
    if connected_at is not None:
        return connected_at >= due
    return now >= due


def standing(facts: CallbackFacts, policy: CallbackPolicy, now: datetime) -> Standing:
    if facts.cancelled:
        return Standing.CANCELLED
    if is_breached(facts.due_at, facts.connected_at, now):
        return Standing.BREACHED
    if facts.connected_at is not None:
        return Standing.MET
    if facts.attempt_under_way:
        return Standing.DIALLING
    if now >= facts.due_at - policy.warn_before:
        return Standing.AT_RISK
    return Standing.PENDING


def warning_at(due: datetime, policy: CallbackPolicy) -> datetime:
    """When the pre-breach warning timer fires."""
    return due - policy.warn_before
