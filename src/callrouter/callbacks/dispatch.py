"""Who calls whom next: earliest deadline first, as a pure rule (no I/O).

As soon as an expert of the domain is free and on duty, the most urgent ready callback of
that domain is dialled. An expert who did not answer for a callback is passed over for it
until every expert on duty of the domain has been tried; then the round starts again.
An appointment's call (Pass RDV) goes to the expert reserved for its slot first, when that
expert is free and was not passed over: their time is booked for it, so they are given to
it before any earliest-deadline pairing; otherwise it takes its turn like any callback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from callrouter.calendar import Window
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
    #: The expert reserved for it (an appointment's), rung first when free.
    preferred: str | None = None


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
    Duty is checked here. It runs in about linear time: a thousand callbacks due at once
    and a thousand free experts are paired in milliseconds.
    """
    ready = sorted(
        (callback for callback in waiting if callback.not_before <= now),
        key=lambda callback: (callback.due_at, callback.callback_id),
    )
    duty = _DutyAt(now)
    free_of = _FreeExperts([expert for expert in free if duty(expert)])
    on_duty_of: dict[str, list[str]] = {}
    for expert in everyone:
        if duty(expert):
            for domain in expert.domains:
                on_duty_of.setdefault(domain, []).append(expert.name)
    assignments: list[Assignment] = []
    for callback in ready:
        preferred = callback.preferred
        if (
            preferred is not None
            and preferred not in callback.passed_over
            and free_of.take_named(callback.domain, preferred)
        ):
            assignments.append(Assignment(callback.callback_id, preferred))
    reserved = {assignment.callback_id for assignment in assignments}
    for callback in ready:
        if callback.callback_id in reserved:
            continue
        if free_of.any_fresh(callback):
            name = free_of.take(callback.domain, callback.passed_over)
            new_round = False
        elif all(name in callback.passed_over for name in on_duty_of.get(callback.domain, [])):
            name = free_of.take(callback.domain, frozenset())
            new_round = True
        else:
            name = None
        if name is not None:
            assignments.append(Assignment(callback.callback_id, name, new_round))
    return assignments


class _DutyAt:
    """`on_duty` at one instant, each working-hours window looked up once: most experts
    share the coordinators' hours, and a thousand of them are checked in a cycle."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._open: dict[Window, bool] = {}

    def __call__(self, expert: Expert) -> bool:
        if expert.hours not in self._open:
            self._open[expert.hours] = on_duty(replace(expert, absences=()), self._now)
        return self._open[expert.hours] and not expert.absent_at(self._now)


class _FreeExperts:
    """The free experts on duty by domain, in preference order, each taken once."""

    def __init__(self, available: Sequence[Expert]) -> None:
        self._by_domain: dict[str, list[str]] = {}
        for expert in available:
            for domain in expert.domains:
                self._by_domain.setdefault(domain, []).append(expert.name)
        self._members = {domain: set(names) for domain, names in self._by_domain.items()}
        #: Per domain, where the first expert not yet taken may be.
        self._head = dict.fromkeys(self._by_domain, 0)
        self._taken: set[str] = set()

    def any_fresh(self, callback: WaitingCallback) -> bool:
        """Whether an expert of the domain, taken or not, was not passed over for it: then
        the round goes on (and waits if those are taken)."""
        members = self._members.get(callback.domain, set())
        passed = sum(1 for name in callback.passed_over if name in members)
        return len(members) > passed

    def take_named(self, domain: str, name: str) -> bool:
        """Take `name` if they are free, on duty and of `domain`."""
        if name in self._taken or name not in self._members.get(domain, ()):
            return False
        self._taken.add(name)
        return True

    def take(self, domain: str, passed_over: frozenset[str]) -> str | None:
        names = self._by_domain.get(domain, [])
        head = self._head.get(domain, 0)
        while head < len(names) and names[head] in self._taken:
            head += 1
        self._head[domain] = head
        for name in names[head:]:
            if name not in self._taken and name not in passed_over:
                self._taken.add(name)
                return name
        return None
