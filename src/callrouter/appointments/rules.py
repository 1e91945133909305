"""Pass RDV slots and their capacity, as pure rules (no I/O).

seeds/000_0e15b6772b2a7f9e.txt, Pass RDV: "Sur rendez-vous du lundi au vendredi de 8h à
17h. Rendez-vous à prendre minimum une semaine à l'avance auprès de nos coordinateurs pour
réserver un expert lors de l'intervention."

Choices (SPEC-level, documented in config/callrouter.toml):
- a slot starts on any quarter hour of local time and must END inside the appointments
  window: with 30-minute slots and a window closing at 17:00, 16:30 is the last start and
  16:45 is refused (outside the window);
- the minimum notice and the horizon are counted in local wall-clock days: a week ahead of
  Monday 10:00 is the next Monday 10:00, even across a DST change;
- an expert is reserved for the whole slot, one quarter hour at a time: a slot's capacity is
  the experts of its domain on duty for all of it (working hours, absences) none of whose
  quarters is booked.
"""

from __future__ import annotations

import enum
import functools
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, chain, islice, repeat
from operator import add, itemgetter, lshift, or_
from typing import NamedTuple
from zoneinfo import ZoneInfo

from callrouter.calendar import Window, next_closing, next_opening
from callrouter.experts.rules import Expert

QUARTER = timedelta(minutes=15)
_LATEST = datetime.max.replace(tzinfo=UTC)

Stretch = tuple[datetime, datetime]


class AppointmentRuleError(ValueError):
    """A policy that does not make sense."""


@dataclass(frozen=True)
class AppointmentPolicy:
    """`minimum_notice` and `horizon` are wall-clock spans (whole days)."""

    slot_length: timedelta = timedelta(minutes=30)
    minimum_notice: timedelta = timedelta(days=7)
    horizon: timedelta = timedelta(weeks=8)
    #: Cancelled at least this long before the slot: the incident is refunded in full.
    full_refund_notice: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.slot_length <= timedelta(0) or self.slot_length % QUARTER:
            raise AppointmentRuleError("a slot lasts a whole number of quarter hours")
        if self.minimum_notice < timedelta(0) or self.full_refund_notice < timedelta(0):
            raise AppointmentRuleError("notices are not negative")
        if self.horizon <= self.minimum_notice:
            raise AppointmentRuleError("the horizon lies beyond the minimum notice")


class SlotProblem(enum.StrEnum):
    NOT_ALIGNED = "not-aligned"
    OUTSIDE_WINDOW = "outside-window"
    TOO_SOON = "too-soon"
    TOO_FAR = "too-far"


def _wall_clock_plus(now: datetime, span: timedelta, zone: ZoneInfo) -> datetime:
    # Aware arithmetic in one zone is wall-clock arithmetic; the result is then re-offset.
    return (now.astimezone(zone) + span).astimezone(UTC)


def earliest_start(policy: AppointmentPolicy, now: datetime, zone: ZoneInfo) -> datetime:
    return _wall_clock_plus(now, policy.minimum_notice, zone)


def latest_start(policy: AppointmentPolicy, now: datetime, zone: ZoneInfo) -> datetime:
    return _wall_clock_plus(now, policy.horizon, zone)


def is_quarter_aligned(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.minute % 15 == 0 and local.second == 0 and local.microsecond == 0


def slot_problem(
    policy: AppointmentPolicy, window: Window, start: datetime, now: datetime
) -> SlotProblem | None:
    """Why a slot starting at `start` cannot be booked at `now`, or None when it can."""
    zone = window.timezone
    if not is_quarter_aligned(start, zone):
        return SlotProblem.NOT_ALIGNED
    if next_opening(window, start) != start or next_closing(window, start) < (
        start + policy.slot_length
    ):
        return SlotProblem.OUTSIDE_WINDOW
    if start < earliest_start(policy, now, zone):
        return SlotProblem.TOO_SOON
    if start > latest_start(policy, now, zone):
        return SlotProblem.TOO_FAR
    return None


def open_stretches(window: Window, start: datetime, end: datetime) -> list[Stretch]:
    """The open stretches of `window` that overlap [start, end), whole days of periods,
    touching periods merged. Read day by day from the window's own periods: the calendar's
    instant-by-instant search is correct but far too slow for weeks of slots."""
    zone = window.timezone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return [(s, e) for s, e in _merged_periods(window, first, last) if e > start and s < end]


@functools.lru_cache(maxsize=64)
def _merged_periods(window: Window, first: date, last: date) -> tuple[Stretch, ...]:
    # Every availability query of a day asks for the same days: remembered, as the
    # window's periods (and holidays) of a date never change.
    zone = window.timezone
    day = first
    periods: list[Stretch] = []
    while day <= last:
        for local_start, local_end in window.periods_starting_on(day):
            # fold=0, as the calendar does: a skipped wall time maps after the jump.
            period_start = local_start.replace(tzinfo=zone).astimezone(UTC)
            period_end = local_end.replace(tzinfo=zone).astimezone(UTC)
            if period_end > period_start:
                periods.append((period_start, period_end))
        day += timedelta(days=1)
    periods.sort()
    stretches: list[Stretch] = []
    for period_start, period_end in periods:
        if stretches and stretches[-1][1] >= period_start:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], period_end))
        else:
            stretches.append((period_start, period_end))
    return tuple(stretches)


def _minus(stretches: Iterable[Stretch], holes: Iterable[Stretch]) -> list[Stretch]:
    result = list(stretches)
    for hole_start, hole_end in holes:
        cut: list[Stretch] = []
        for start, end in result:
            if hole_end <= start or end <= hole_start:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        result = cut
    return result


def duty_stretches(expert: Expert, start: datetime, end: datetime) -> list[Stretch]:
    """When `expert` is on duty around [start, end): working hours minus absences."""
    opened = open_stretches(expert.hours, start, end)
    return sorted(_minus(opened, ((a.start, a.end) for a in expert.absences)))


def within(stretches: Sequence[Stretch], start: datetime, end: datetime) -> bool:
    """Whether one of `stretches` (sorted, disjoint) holds all of [start, end)."""
    index = bisect_right(stretches, (start, _LATEST)) - 1
    return index >= 0 and end <= stretches[index][1]


def quarters(start: datetime, end: datetime) -> list[datetime]:
    """The quarter hours [start, end) covers, by their start (UTC)."""
    first = start.astimezone(UTC)
    count = int((end - start) / QUARTER)
    return [first + QUARTER * index for index in range(count)]


class SlotAvailability(NamedTuple):
    start: datetime
    end: datetime
    #: Experts of the domain on duty for the whole slot with none of its quarters booked.
    free: tuple[str, ...]

    @property
    def capacity(self) -> int:
        return len(self.free)


def _slot_runs(
    policy: AppointmentPolicy, window: Window, start: datetime, end: datetime, now: datetime
) -> list[tuple[datetime, int]]:
    """The bookable slot starts in [start, end) at `now` as runs: (first start, how many
    starts a quarter hour apart), one per open stretch that holds a slot, in order."""
    zone = window.timezone
    low = max(start, earliest_start(policy, now, zone))
    high = min(end, latest_start(policy, now, zone) + timedelta(microseconds=1))
    runs: list[tuple[datetime, int]] = []
    for opening, closing in open_stretches(window, low, high):
        first = max(opening, low).astimezone(UTC)
        # Quarter hours of local time are quarter hours of UTC: offsets are whole quarters.
        remainder = (first - datetime(2000, 1, 1, tzinfo=UTC)) % QUARTER
        slot = first if not remainder else first + (QUARTER - remainder)
        # Starts slot + k quarters with k < (high - slot) / QUARTER (starting before
        # `high`) and k <= (closing - slot_length - slot) / QUARTER (ending by closing).
        before_high = -((slot - high) // QUARTER)
        by_closing = (closing - policy.slot_length - slot) // QUARTER + 1
        count = min(before_high, by_closing)
        if count > 0:
            runs.append((slot, count))
    return runs


def _expand(first: datetime, count: int) -> Iterator[datetime]:
    """`count` instants a quarter hour apart from `first` (added in C, not in a loop)."""
    return accumulate(repeat(QUARTER, count - 1), add, initial=first)


def slot_starts(
    policy: AppointmentPolicy, window: Window, start: datetime, end: datetime, now: datetime
) -> list[datetime]:
    """Every bookable slot start in [start, end) at `now`, in order."""
    runs = _slot_runs(policy, window, start, end, now)
    return [slot for first, count in runs for slot in _expand(first, count)]


_QUARTER_SECONDS = int(QUARTER.total_seconds())


def _quarter_index(instant: datetime, origin: float, up: bool) -> int:
    """Quarter hours from the epoch timestamp `origin` to `instant` (rounded down, or up)."""
    quarters_from_origin = (instant.timestamp() - origin) / _QUARTER_SECONDS
    index = int(quarters_from_origin // 1)
    return index + 1 if up and index != quarters_from_origin else index


def _open_quarters(stretches: Iterable[Stretch], origin: float, size: int) -> bytearray:
    """Byte q is 1 when quarter hour q after the epoch timestamp `origin` lies wholly in one
    of `stretches`, else 0 (set by slices, in C)."""
    quarters = bytearray(size)
    for stretch_start, stretch_end in stretches:
        first = max(_quarter_index(stretch_start, origin, up=True), 0)
        stop = min(_quarter_index(stretch_end, origin, up=False), size)
        if stop > first:
            quarters[first:stop] = b"\1" * (stop - first)
    return quarters


def _free_quarters(
    expert: Expert, opened: bytearray, booked: Iterable[int], origin: int
) -> bytearray:
    """`opened` (the expert's working hours as _open_quarters gives them) with 0 at every
    quarter an absence overlaps or that is booked: the quarters the expert can take."""
    free = bytearray(opened)
    size = len(free)
    for absence in expert.absences:
        # The quarters that end after it starts and start before it ends.
        first = max(_quarter_index(absence.start, origin, up=False), 0)
        stop = min(_quarter_index(absence.end, origin, up=True), size)
        if stop > first:
            free[first:stop] = bytes(stop - first)
    for quarter in booked:
        # Inlined _quarter_index: an expert may have hundreds of booked quarters.
        index = (quarter - origin) // _QUARTER_SECONDS
        if 0 <= index < size:
            free[index] = 0
    return free


def _whole_slots(free: bytearray, length: int) -> int:
    """Lane q (bits 8q to 8q + 7) is 1 when quarters q to q + length - 1 are all free: read
    as one integer the bytes are 8-bit lanes, so this is the AND of it shifted by 0 to
    length - 1 lanes."""
    lanes = int.from_bytes(free, "little")
    whole = lanes
    for shift in range(1, length):
        whole &= lanes >> (8 * shift)
    return whole


#: Builds a SlotAvailability from a (start, end, free) tuple in C, as its `_make` does in
#: Python: a query makes a thousand of them.
_slot_availability = functools.partial(tuple.__new__, SlotAvailability)


def availability(
    policy: AppointmentPolicy,
    window: Window,
    experts: Sequence[Expert],
    booked: Mapping[str, Iterable[int]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[SlotAvailability]:
    """The bookable slots in [start, end) and, for each, the experts free for it.

    `experts` are those of the slot's domain; `booked` their booked quarters by name, as
    the quarters' starts in seconds since the epoch (`datetime.timestamp()`).

    Worked on quarter-hour indexes from the first slot, never slot by slot in Python: per
    expert a byte per quarter (free or not), then a lane per quarter where a whole slot
    fits; eight experts share a byte (one bit each), read at every slot's quarter at once
    and made one integer per slot; each distinct integer is turned into names once."""
    runs = _slot_runs(policy, window, start, end, now)
    if not runs:
        return []
    origin = runs[0][0]
    # Whole seconds: slot starts are quarter hours.
    stamp = int(origin.timestamp())
    length = int(policy.slot_length / QUARTER)
    offsets = [((first - origin) // QUARTER, count) for first, count in runs]
    # Quarters from the first slot's start to the last one's end.
    size = offsets[-1][0] + offsets[-1][1] - 1 + length
    indexes = list(chain.from_iterable(range(at, at + count) for at, count in offsets))
    pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda bits: (bits[indexes[0]],))
    span_end = origin + QUARTER * size
    opened: dict[int, bytearray] = {}
    ordered = sorted(experts, key=lambda e: e.name)
    groups: list[int] = []
    for position, expert in enumerate(ordered):
        hours = opened.get(id(expert.hours))
        if hours is None:
            stretches = open_stretches(expert.hours, origin, span_end)
            hours = opened[id(expert.hours)] = _open_quarters(stretches, stamp, size)
        free = _free_quarters(expert, hours, booked.get(expert.name, ()), stamp)
        if position % 8 == 0:
            groups.append(0)
        groups[-1] |= _whole_slots(free, length) << (position % 8)
    # One integer per slot, bit p set when the expert at position p is free for all of it:
    # group g's byte at the slot's quarter shifted by 8g. Integers, not a tuple per slot:
    # the collector does not track them.
    keys: Sequence[int] = [0] * len(indexes)
    for index, group in enumerate(groups):
        column = pick(group.to_bytes(size, "little"))
        keys = column if not index else list(map(or_, keys, map(lshift, column, repeat(8 * index))))
    # Few distinct keys (most slots have everyone free): each one's names found once.
    free_names = {
        key: tuple(expert.name for position, expert in enumerate(ordered) if key >> position & 1)
        for key in set(keys)
    }
    # A run's starts and ends in one series: a slot ends where the start `length` quarters
    # later begins, so each instant is made once.
    series = [list(_expand(first, count + length)) for first, count in runs]
    starts = chain.from_iterable(
        islice(instants, count) for instants, (_, count) in zip(series, runs, strict=True)
    )
    ends = chain.from_iterable(islice(instants, length, None) for instants in series)
    frees = map(free_names.__getitem__, keys)
    return list(map(_slot_availability, zip(starts, ends, frees, strict=True)))


def full_refund_on_cancel(policy: AppointmentPolicy, start: datetime, now: datetime) -> bool:
    """Cancelled at least `full_refund_notice` before the slot: refunded in full; later:
    nothing back (the expert's time was kept for the caller)."""
    return start - now >= policy.full_refund_notice
