"""The call at an appointment's slot, as pure rules (no I/O).

seeds/000_0e15b6772b2a7f9e.txt, Pass RDV: "Appel de l'expert garanti dans le 1/4 heure du
rendez-vous." The server dials the reserved expert, then the customer, from the slot's
start. The guarantee is met when the two are bridged before slot start + 15 minutes;
otherwise it is broken: the appointment's points are refunded once and the call goes on.

The call is a row of the callbacks' dispatcher (callrouter.callbacks): these rules give the
instants that row carries, so the dispatcher's deadline, warning and retry do the rest
(met at 14:59 after the start, broken at 15:00: callbacks.rules.is_breached on `due_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class SlotCallRuleError(ValueError):
    """A policy that does not make sense."""


@dataclass(frozen=True)
class SlotCallPolicy:
    """Defaults from issue 9; every one is configurable ([appointments])."""

    #: Expert and customer bridged before slot start + this: the guarantee is met.
    guarantee: timedelta = timedelta(minutes=15)
    #: Customer did not answer or was busy: tried again this much later.
    retry_delay: timedelta = timedelta(minutes=5)
    #: Nothing under way this long after the slot started: a supervisor is warned.
    warn_after: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.guarantee <= timedelta(0):
            raise SlotCallRuleError("the appointment's guarantee must be a positive duration")
        if self.retry_delay <= timedelta(0) or self.warn_after < timedelta(0):
            raise SlotCallRuleError("the retry delay is positive, the warning not negative")
        if self.warn_after >= self.guarantee:
            raise SlotCallRuleError("the warning comes before the guarantee breaks")


@dataclass(frozen=True)
class SlotCallTimes:
    #: Dialling starts then, not before.
    not_before: datetime
    #: Not bridged by then (exclusive): broken and refunded.
    due_at: datetime
    #: A supervisor is warned then when nothing is under way.
    warn_at: datetime


def slot_call_times(policy: SlotCallPolicy, slot_start: datetime) -> SlotCallTimes:
    """Slot at 10:00: dialled from 10:00, warned at 10:05, broken if not bridged by 10:15."""
    if slot_start.tzinfo is None:
        raise SlotCallRuleError("a slot starts at a timezone-aware instant")
    return SlotCallTimes(
        not_before=slot_start,
        due_at=slot_start + policy.guarantee,
        warn_at=slot_start + policy.warn_after,
    )
