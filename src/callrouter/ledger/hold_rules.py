"""An emergency hold's life, without I/O: when it may move, what a redial attaches to, and
what a hold found after a restart becomes.

A hold is the pending half of a two-phase transfer (TigerBeetle's pending/post/void): the
emergency price is set aside at routing, not spendable, and either posted (a technician
confirmed: the incident opens, debited once) or voided (the caller left unserved).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from callrouter.calendar import Window, next_closing


class HoldState(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class HoldMove(enum.StrEnum):
    POST = "post"
    VOID = "void"


class MoveOutcome(enum.Enum):
    #: The hold moves now.
    APPLY = "apply"
    #: It already made this very move: a replay, nothing changes.
    REPLAY = "replay"
    #: It already made the other move: final states never change.
    REFUSED = "refused"


_DONE_BY = {HoldMove.POST: HoldState.POSTED, HoldMove.VOID: HoldState.VOIDED}


def move_outcome(state: HoldState, move: HoldMove) -> MoveOutcome:
    """Pending moves once; posting a posted hold (or voiding a voided one) is a replay."""
    if state is HoldState.PENDING:
        return MoveOutcome.APPLY
    return MoveOutcome.REPLAY if state is _DONE_BY[move] else MoveOutcome.REFUSED


def state_after(move: HoldMove) -> HoldState:
    return _DONE_BY[move]


@dataclass(frozen=True)
class AttachRule:
    """How long after an emergency incident opens a further call of the same account joins
    it at no cost: until the on-call stretch it opened in closes (08:00 on a weeknight), or
    a fixed time when `window` is set."""

    on_call: Window
    window: timedelta | None = None

    def until(self, opened_at: datetime) -> datetime:
        if self.window is not None:
            return opened_at + self.window
        closing = next_closing(self.on_call, opened_at)
        # Opened outside the on-call window (a coordinator's emergency incident by day):
        # the stretch is the next one to close after it.
        return closing if closing > opened_at else opened_at

    def attaches(self, opened_at: datetime, now: datetime) -> bool:
        return opened_at <= now < self.until(opened_at)


class Resolution(enum.Enum):
    KEEP = "keep"
    POST = "post"
    VOID = "void"


@dataclass(frozen=True)
class CallerOnPBX:
    """What the PBX's channel list says of a held call's caller."""

    present: bool
    #: In a bridge: a technician took the call, which they do only after confirming.
    bridged: bool


def resolve(
    *, placed_at: datetime, now: datetime, max_age: timedelta, caller: CallerOnPBX
) -> Resolution:
    """A pending hold found after a restart or a reconnect (its events may be lost).

    Confirmed (the caller is bridged with a technician) -> post; the caller gone with no
    confirmation seen -> void (the doubt goes to the customer); still waiting -> keep,
    unless the hold is older than any real wait (the safety net: a hold never lives on).
    """
    if caller.present and caller.bridged:
        return Resolution.POST
    if not caller.present or now - placed_at >= max_age:
        return Resolution.VOID
    return Resolution.KEEP
