"""Who is on call when: the roster's rules, pure (SPEC "Emergencies and on-call").

A roster has one rotation per layer (primary, secondary, manager): technicians taking
turns, handing off every `shift_days` days at a local wall-clock time (weekly on Monday at
08:00, daily at 18:00). Overrides let a person replace another for a time range. All of it
is read in the calendar's time zone: a hand-off at 18:00 stays at 18:00 across a DST
change, so that shift lasts 23 or 25 hours.

The roster answers only inside the calendar's on-call window (seeds/001 "astreinte de
18h00 à 8h00 du lundi au vendredi, week-end et jours fériés"): outside it the coordinators
take the calls and nobody is on call, whoever's shift it is. So a holiday is on call all
day, and the team changes when the window opens or closes as well as at hand-offs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from callrouter.calendar import Window, is_open, next_closing, next_opening

#: The longest wait for the next hand-off `next_hand_off` looks at: more than a weekly
#: rotation's shift plus the longest closed stretch of the on-call window.
NEXT_HAND_OFF_HORIZON = timedelta(days=35)


class RosterError(ValueError):
    """A roster that cannot be: the message says what is wrong."""


class Layer(enum.StrEnum):
    """Who is tried first: the escalation goes down this order."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    MANAGER = "manager"


@dataclass(frozen=True)
class Technician:
    """Someone who can be on call. `contact` is a PBX interface (`PJSIP/alice`) or a phone
    number: what the PBX dials to reach them."""

    name: str
    contact: str


@dataclass(frozen=True)
class Rotation:
    """Technicians taking turns, one shift each, in order, round and round.

    `first_handoff` is any day a hand-off happens at `handoff_at` (to `people[0]`): it
    fixes the phase only, and the cycle runs before it as after it, so replacing a
    rotation never leaves a hole before its first hand-off.
    """

    people: tuple[str, ...]
    shift_days: int
    handoff_at: time
    first_handoff: date

    def __post_init__(self) -> None:
        if not self.people:
            raise RosterError("a rotation needs at least one person")
        if self.shift_days < 1:
            raise RosterError("a shift lasts at least one day")
        if self.handoff_at.tzinfo is not None:
            raise RosterError("the hand-off time is local wall-clock time, without a zone")

    def _start_of(self, shift: int, zone: ZoneInfo) -> datetime:
        day = self.first_handoff + timedelta(days=shift * self.shift_days)
        return _instant(datetime.combine(day, self.handoff_at), zone)

    def shift_at(self, instant: datetime, zone: ZoneInfo) -> int:
        """The number of the shift `instant` falls in (shift 0 starts at first_handoff)."""
        local_day = instant.astimezone(zone).date()
        shift = (local_day - self.first_handoff).days // self.shift_days
        # Before that day's hand-off it is still the previous shift.
        return shift if instant >= self._start_of(shift, zone) else shift - 1

    def holder_at(self, instant: datetime, zone: ZoneInfo) -> str:
        return self.people[self.shift_at(instant, zone) % len(self.people)]

    def handoffs_between(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
        """Hand-off instants in (start, end), in UTC."""
        found: list[datetime] = []
        shift = self.shift_at(start, zone) + 1
        while (handoff := self._start_of(shift, zone)) < end:
            found.append(handoff)
            shift += 1
        return found


@dataclass(frozen=True)
class Override:
    """`by` replaces `replaces` from `start` (included) to `end` (excluded), in whichever
    layer `replaces` is on call then; no effect while `replaces` is not on call."""

    replaces: str
    by: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for instant in (self.start, self.end):
            _require_aware(instant)
        if self.end <= self.start:
            raise RosterError("an override ends after it starts")
        if self.replaces == self.by:
            raise RosterError("an override replaces a person with someone else")

    def covers(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class Roster:
    """Everything "who is on call" depends on. `overrides` in the order they were made: a
    later one applies on top of the earlier ones (it may replace their replacement)."""

    window: Window
    people: Mapping[str, Technician] = field(default_factory=dict)
    rotations: Mapping[Layer, Rotation] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        named = [name for rotation in self.rotations.values() for name in rotation.people]
        named += [name for override in self.overrides for name in (override.replaces, override.by)]
        unknown = sorted(set(named) - set(self.people))
        if unknown:
            raise RosterError(f"not on the roster's list of people: {', '.join(unknown)}")
        object.__setattr__(self, "people", MappingProxyType(dict(self.people)))
        object.__setattr__(self, "rotations", MappingProxyType(dict(self.rotations)))

    @property
    def zone(self) -> ZoneInfo:
        return self.window.timezone


@dataclass(frozen=True)
class OnCallTeam:
    """Who is on call, per layer; None where nobody is. One person may hold two layers
    (an override by the secondary of the primary): the escalation tries them once."""

    primary: Technician | None = None
    secondary: Technician | None = None
    manager: Technician | None = None

    def get(self, layer: Layer) -> Technician | None:
        person: Technician | None = getattr(self, layer.value)
        return person

    def layers(self) -> list[tuple[Layer, Technician]]:
        """The layers someone holds, in escalation order."""
        return [(layer, person) for layer in Layer if (person := self.get(layer)) is not None]

    def layers_of(self, name: str) -> list[Layer]:
        return [layer for layer, person in self.layers() if person.name == name]

    @property
    def empty(self) -> bool:
        return not self.layers()


@dataclass(frozen=True)
class Shift:
    """A stretch of time with the same team on call, [start, end)."""

    start: datetime
    end: datetime
    team: OnCallTeam


@dataclass(frozen=True)
class Duty:
    """A stretch one person is on call, [start, end), and in which layers."""

    start: datetime
    end: datetime
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class HandOff:
    at: datetime
    team: OnCallTeam


def on_call_at(roster: Roster, instant: datetime) -> OnCallTeam:
    """Who is on call at `instant`, per layer; the empty team outside the on-call window
    or for a layer without a rotation."""
    _require_aware(instant)
    if not roster.rotations or not is_open(roster.window, instant):
        return OnCallTeam()
    names = {
        layer: rotation.holder_at(instant, roster.zone)
        for layer, rotation in roster.rotations.items()
    }
    for override in roster.overrides:
        if override.covers(instant):
            names = {
                layer: override.by if name == override.replaces else name
                for layer, name in names.items()
            }
    return OnCallTeam(**{layer.value: roster.people[name] for layer, name in names.items()})


def schedule(roster: Roster, start: datetime, end: datetime) -> list[Shift]:
    """The on-call shifts between `start` and `end`, cut to that range, in order; times
    nobody is on call (the day, or no roster) are left out."""
    shifts: list[Shift] = []
    for segment_start, segment_end, team in _segments(roster, start, end):
        if team.empty:
            continue
        if shifts and shifts[-1].end == segment_start and shifts[-1].team == team:
            shifts[-1] = Shift(shifts[-1].start, segment_end, team)
        else:
            shifts.append(Shift(segment_start, segment_end, team))
    return shifts


def hand_offs_between(roster: Roster, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in (start, end] at which the on-call team changes, in UTC: hand-offs,
    overrides beginning and ending, and the on-call window opening and closing (the team
    then becomes, or stops being, empty). A hand-off to the same person is not a change."""
    segments = _segments(roster, start, end + _TICK)
    return [at for (_, _, before), (at, _, after) in pairwise(segments) if after != before]


def next_hand_off(roster: Roster, instant: datetime) -> HandOff | None:
    """The next change of the on-call team after `instant` and the team from then on;
    None when nothing changes within NEXT_HAND_OFF_HORIZON (no roster)."""
    return _first_change(roster, instant, lambda _: True)


def next_on_call(roster: Roster, instant: datetime) -> HandOff | None:
    """The next team to come on call after `instant` (skipping the day's empty team: at
    night, tomorrow evening's team), and when; None when none within
    NEXT_HAND_OFF_HORIZON."""
    return _first_change(roster, instant, lambda team: not team.empty)


def duties_of(roster: Roster, name: str, start: datetime, end: datetime) -> list[Duty]:
    """When `name` is on call between `start` and `end` (their iCalendar feed)."""
    duties: list[Duty] = []
    for shift in schedule(roster, start, end):
        layers = tuple(shift.team.layers_of(name))
        if not layers:
            continue
        if duties and duties[-1].end == shift.start and duties[-1].layers == layers:
            duties[-1] = Duty(duties[-1].start, shift.end, layers)
        else:
            duties.append(Duty(shift.start, shift.end, layers))
    return duties


def _first_change(
    roster: Roster, instant: datetime, wanted: Callable[[OnCallTeam], bool]
) -> HandOff | None:
    # A day at a time: the answer is usually within hours, and the live views ask often.
    for day in range(NEXT_HAND_OFF_HORIZON.days):
        start = instant + timedelta(days=day)
        for change in hand_offs_between(roster, start, start + _ONE_DAY):
            team = on_call_at(roster, change)
            if wanted(team):
                return HandOff(change, team)
    return None


_ONE_DAY = timedelta(days=1)
#: `hand_offs_between` includes its end; the segments stop just after it.
_TICK = timedelta(microseconds=1)


def _segments(
    roster: Roster, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, OnCallTeam]]:
    """[start, end) cut at every instant the team may change, each piece with its team."""
    _require_aware(start)
    _require_aware(end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    cuts: set[datetime] = {start, end}
    if roster.rotations:
        cuts.update(_window_changes(roster.window, start, end))
        for rotation in roster.rotations.values():
            cuts.update(rotation.handoffs_between(start, end, roster.zone))
        cuts.update(_override_edges(roster.overrides, start, end))
    ordered = sorted(cuts)
    return [(a, b, on_call_at(roster, a)) for a, b in pairwise(ordered)]


def _window_changes(window: Window, start: datetime, end: datetime) -> list[datetime]:
    changes: list[datetime] = []
    cursor = start
    while cursor < end:
        opened = is_open(window, cursor)
        cursor = next_closing(window, cursor) if opened else next_opening(window, cursor)
        if cursor < end:
            changes.append(cursor)
    return changes


def _override_edges(
    overrides: Iterable[Override], start: datetime, end: datetime
) -> list[datetime]:
    return [
        edge.astimezone(UTC)
        for override in overrides
        for edge in (override.start, override.end)
        if start < edge < end
    ]


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0, as the calendar does: a wall time skipped in spring falls just after the
    # jump, a repeated one in autumn on its first occurrence.
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; the roster needs instants")
