"""Experts and their duty, as pure rules (no I/O).

An expert covers one or more domains (configuration: lighting control, HVAC, KNX, ...),
works in a weekly window (by default the coordinators' one, SPEC "Calendar") and may be
absent for stretches of time. Callbacks (Pass 4H) need "on duty now"; appointments
(Pass RDV) need "on duty for the whole slot".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from callrouter.calendar import Window, is_open, next_closing

_DOMAIN_KEY = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class ExpertRuleError(ValueError):
    """An expert, a domain or an absence that does not make sense."""


@dataclass(frozen=True)
class Domain:
    """A field of expertise a caller can ask for; `key` is what staff type and store."""

    key: str
    label: str

    def __post_init__(self) -> None:
        if not _DOMAIN_KEY.match(self.key):
            raise ExpertRuleError(
                f"domain key '{self.key}': lower-case letters, digits and '-', at most 32"
            )
        if not self.label.strip():
            raise ExpertRuleError(f"domain '{self.key}' needs a label")


@dataclass(frozen=True)
class Absence:
    """The expert is away from `start` (included) to `end` (excluded)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ExpertRuleError("an absence needs timezone-aware start and end")
        if self.end <= self.start:
            raise ExpertRuleError("an absence ends after it starts")

    def covers(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Expert:
    """A specialist who is rung for callbacks and appointments through `interface`."""

    name: str
    interface: str
    domains: frozenset[str]
    hours: Window
    absences: tuple[Absence, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.domains:
            raise ExpertRuleError(f"expert '{self.name}' covers no domain")
        if "/" not in self.interface:
            raise ExpertRuleError(
                f"expert '{self.name}': interface '{self.interface}' is not a PBX dial string"
                " such as PJSIP/expert7 or Local/expert7@experts"
            )

    def covers(self, domain: str) -> bool:
        return domain in self.domains

    def absent_at(self, instant: datetime) -> bool:
        return any(absence.covers(instant) for absence in self.absences)


def on_duty(expert: Expert, instant: datetime) -> bool:
    """Inside the expert's working hours and not absent."""
    return is_open(expert.hours, instant) and not expert.absent_at(instant)


def on_duty_throughout(expert: Expert, start: datetime, end: datetime) -> bool:
    """On duty for all of [start, end): an appointment slot needs the whole of it."""
    if end <= start:
        raise ExpertRuleError("a stretch of duty ends after it starts")
    if not is_open(expert.hours, start) or next_closing(expert.hours, start) < end:
        return False
    return not any(absence.overlaps(start, end) for absence in expert.absences)


def experts_for(experts: Iterable[Expert], domain: str, instant: datetime) -> list[Expert]:
    """The experts of `domain` on duty at `instant`, in a stable order (by name)."""
    return sorted(
        (expert for expert in experts if expert.covers(domain) and on_duty(expert, instant)),
        key=lambda expert: expert.name,
    )


def unknown_domains(domains: Iterable[str], known: Sequence[Domain]) -> list[str]:
    """The domains an expert claims that the configuration does not list."""
    keys = {domain.key for domain in known}
    return sorted(set(domains) - keys)
