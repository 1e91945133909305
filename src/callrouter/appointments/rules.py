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
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import compress
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from callrouter.calendar import Window, next_closing, next_opening
from callrouter.experts.rules import Expert

QUARTER = timedelta(minutes=15)
#: '0'/'1' characters to 0/1 bytes.
_FLAGS = bytes.maketrans(b"01", b"\0\1")
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
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
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
    return [(s, e) for s, e in stretches if e > start and s < end]


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


def duty_stretches(
    expert: Expert,
    start: datetime,
    end: datetime,
    hours: Callable[[Window], list[Stretch]] | None = None,
) -> list[Stretch]:
    """When `expert` is on duty around [start, end): working hours minus absences.
    `hours` may return the window's open stretches from a cache shared by many experts."""
    opened = hours(expert.hours) if hours is not None else open_stretches(expert.hours, start, end)
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


def slot_starts(
    policy: AppointmentPolicy, window: Window, start: datetime, end: datetime, now: datetime
) -> list[datetime]:
    """Every bookable slot start in [start, end) at `now`, in order."""
    zone = window.timezone
    low = max(start, earliest_start(policy, now, zone))
    high = min(end, latest_start(policy, now, zone) + timedelta(microseconds=1))
    starts: list[datetime] = []
    for opening, closing in open_stretches(window, low, high):
        first = max(opening, low).astimezone(UTC)
        # Quarter hours of local time are quarter hours of UTC: offsets are whole quarters.
        remainder = (first - datetime(2000, 1, 1, tzinfo=UTC)) % QUARTER
        slot = first if not remainder else first + (QUARTER - remainder)
        while slot < high and slot + policy.slot_length <= closing:
            starts.append(slot)
            slot += QUARTER
    return starts


_QUARTER_SECONDS = QUARTER.total_seconds()


def _quarter_index(instant: datetime, origin: float, up: bool) -> int:
    """Quarter hours from the epoch timestamp `origin` to `instant` (rounded down, or up)."""
    quarters_from_origin = (instant.timestamp() - origin) / _QUARTER_SECONDS
    index = int(quarters_from_origin // 1)
    return index + 1 if up and index != quarters_from_origin else index


def _free_mask(stretches: Sequence[Stretch], booked: Iterable[datetime], origin: float) -> int:
    """Bit q set when quarter hour q after `origin` lies wholly in a stretch and is not
    booked: one big integer per expert, so a slot's test is a few bit operations."""
    mask = 0
    for stretch_start, stretch_end in stretches:
        first = max(_quarter_index(stretch_start, origin, up=True), 0)
        stop = _quarter_index(stretch_end, origin, up=False)
        if stop > first:
            mask |= ((1 << (stop - first)) - 1) << first
    # Inlined _quarter_index: an expert may have hundreds of booked quarters.
    taken = [
        index
        for quarter in booked
        if (index := int((quarter.timestamp() - origin) // _QUARTER_SECONDS)) >= 0
    ]
    if taken:
        # One bit per booked quarter, set in bytes then read as one integer.
        bits = bytearray(max(taken) // 8 + 1)
        for index in taken:
            bits[index >> 3] |= 1 << (index & 7)
        mask &= ~int.from_bytes(bits, "little")
    return mask


def availability(
    policy: AppointmentPolicy,
    window: Window,
    experts: Sequence[Expert],
    booked: Mapping[str, set[datetime]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[SlotAvailability]:
    """The bookable slots in [start, end) and, for each, the experts free for it.

    `experts` are those of the slot's domain; `booked` their booked quarters by name."""
    starts = slot_starts(policy, window, start, end, now)
    if not starts:
        return []
    origin, span_end = starts[0], starts[-1] + policy.slot_length
    length = int(policy.slot_length / QUARTER)
    cache: dict[int, list[Stretch]] = {}

    def hours(of: Window) -> list[Stretch]:
        key = id(of)
        if key not in cache:
            cache[key] = open_stretches(of, origin, span_end)
        return cache[key]

    # Per expert, a 0/1 byte per quarter hour where a whole slot fits, read at each slot's
    # quarter in one C-level call; then one column of flags per slot.
    stamp = origin.timestamp()
    indexes = [int((slot.timestamp() - stamp) // _QUARTER_SECONDS) for slot in starts]
    pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda bits: (bits[indexes[0]],))
    size = indexes[-1] + 1
    names: list[str] = []
    columns: list[tuple[int, ...]] = []
    for expert in sorted(experts, key=lambda e: e.name):
        free = _free_mask(
            duty_stretches(expert, origin, span_end, hours), booked.get(expert.name, ()), stamp
        )
        whole = free
        for shift in range(1, length):
            whole &= free >> shift
        bits = format(whole, "b")[::-1].encode().translate(_FLAGS).ljust(size, b"\0")
        names.append(expert.name)
        columns.append(pick(bits))
    if not names:
        return [SlotAvailability(slot, slot + policy.slot_length, ()) for slot in starts]
    return [
        SlotAvailability(slot, slot + policy.slot_length, tuple(compress(names, flags)))
        for slot, flags in zip(starts, zip(*columns, strict=True), strict=True)
    ]


def full_refund_on_cancel(policy: AppointmentPolicy, start: datetime, now: datetime) -> bool:
    """Cancelled at least `full_refund_notice` before the slot: refunded in full; later:
    nothing back (the expert's time was kept for the caller)."""
    return start - now >= policy.full_refund_notice
