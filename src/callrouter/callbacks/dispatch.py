"""Who calls whom next: earliest deadline first, as a pure rule (no I/O).

As soon as an expert of the domain is free and on duty, the most urgent ready callback of
that domain is dialled. An expert who did not answer for a callback is passed over for it
until every expert on duty of the domain has been tried; then the round starts again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from callrouter.experts.rules import Expert, on_duty


@dataclass(frozen=True)
class WaitingCallback:
    """A callback with no attempt under way."""

    callback_id: int
    domain: str
    due_at: datetime
    #: Not dialled before this instant (a customer-side retry delay).
    not_before: datetime
    #: Experts who did not answer (or were busy) for it in the current round.
    passed_over: frozenset[str] = field(default=frozenset())


@dataclass(frozen=True)
class Assignment:
    callback_id: int
    expert: str
    #: True when every expert on duty had been passed over: a new round begins.
    new_round: bool = False


def assign(
    waiting: Sequence[WaitingCallback],
    free: Sequence[Expert],
    everyone: Sequence[Expert],
    now: datetime,
) -> list[Assignment]:
    """Pairs of (callback, free expert) to dial now, most urgent callback first.

    `free` lists the experts the PBX shows free (not ringing, not in call, not paused), in
    the order they should be preferred (longest idle first); `everyone` is every known
    expert, free or not, so that a round ends only when all those on duty were tried.
    Duty is checked here.
    """
    ready = sorted(
        (callback for callback in waiting if callback.not_before <= now),
        key=lambda callback: (callback.due_at, callback.callback_id),
    )
    available = [expert for expert in free if on_duty(expert, now)]
    taken: set[str] = set()
    assignments: list[Assignment] = []
    for callback in ready:
        of_domain = [expert for expert in available if expert.covers(callback.domain)]
        fresh = [expert for expert in of_domain if expert.name not in callback.passed_over]
        new_round = not fresh and _everyone_passed_over(callback, everyone, now)
        for expert in fresh if fresh else (of_domain if new_round else []):
            if expert.name not in taken:
                taken.add(expert.name)
                assignments.append(Assignment(callback.callback_id, expert.name, new_round))
                break
    return assignments


def _everyone_passed_over(
    callback: WaitingCallback, everyone: Sequence[Expert], now: datetime
) -> bool:
    on_duty_of_domain = [
        expert for expert in everyone if expert.covers(callback.domain) and on_duty(expert, now)
    ]
    return all(expert.name in callback.passed_over for expert in on_duty_of_domain)
