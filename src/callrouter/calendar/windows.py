"""Opening windows: the weekly shape of who answers when (SPEC "Calendar").

A window only says which local wall-clock periods start on a given date; the arithmetic
in `callrouter.calendar.arithmetic` turns those into instants, so DST is handled once.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callrouter.calendar.errors import CalendarError
from callrouter.calendar.public_holidays import PublicHolidays

PARIS = ZoneInfo("Europe/Paris")

#: A period in local wall-clock time, naive: (start, end), end after start.
LocalPeriod = tuple[datetime, datetime]

_DAY = timedelta(days=1)
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


class Weekday(enum.IntEnum):
    """Days of the week, numbered like `date.weekday()`."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @classmethod
    def parse(cls, text: str) -> Weekday:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(day.name.lower() for day in cls)
            raise ValueError(f"'{text}' is not a day of the week ({names})") from None


MONDAY_TO_FRIDAY = frozenset(Weekday(n) for n in range(5))
EVERY_DAY = frozenset(Weekday)


def parse_time(text: str, *, allow_24: bool = False) -> time:
    """'08:00' -> time(8, 0); '24:00' (end of day) is time(0, 0) when allowed."""
    match = _TIME.fullmatch(text.strip())
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
        if allow_24 and hour == 24 and minute == 0:
            return time(0, 0)
    raise ValueError(f"'{text.strip()}' is not a time HH:MM")


@dataclass(frozen=True)
class TimeRange:
    """A daily range of local time. When `end <= start` it ends the next day.

    "18:00-08:00" crosses midnight (seeds/001_26f350c8b1308984.txt: "astreinte de 18h00 à
    8h00"); "00:00-24:00" is a whole day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("a time range is local wall-clock time, without a time zone")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        start_text, dash, end_text = text.partition("-")
        if not dash:
            raise ValueError(f"'{text}' is not a range HH:MM-HH:MM")
        return cls(parse_time(start_text), parse_time(end_text, allow_24=True))

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def on(self, day: date) -> LocalPeriod:
        start = datetime.combine(day, self.start)
        end = datetime.combine(day + _DAY if self.crosses_midnight else day, self.end)
        return start, end

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0, 0) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


@dataclass(frozen=True)
class WeeklyWindow:
    """The same time ranges on chosen days of the week, optionally closed on holidays.

    A split window (seeds/002_5c4f5af87a477294.txt: "de 9h à 12h30 et de 14h à 18h") has
    several ranges. A range that crosses midnight belongs to the day it starts on: that
    day's holiday status decides whether it opens.
    """

    days: frozenset[Weekday]
    ranges: tuple[TimeRange, ...]
    closed_on_holidays: bool = True
    timezone: ZoneInfo = PARIS
    holidays: PublicHolidays = field(default_factory=PublicHolidays)

    def __post_init__(self) -> None:
        if not self.days:
            raise CalendarError("a weekly window needs at least one day")
        if not self.ranges:
            raise CalendarError("a weekly window needs at least one time range")
        object.__setattr__(self, "ranges", tuple(sorted(self.ranges, key=lambda r: r.start)))

    def periods_starting_on(self, day: date) -> tuple[LocalPeriod, ...]:
        if day.weekday() not in self.days:
            return ()
        if self.closed_on_holidays and day in self.holidays:
            return ()
        return tuple(time_range.on(day) for time_range in self.ranges)

    @property
    def always_open(self) -> bool:
        # A 24-hour range on every day covers the whole week.
        whole_day = any(r.start == r.end for r in self.ranges)
        return whole_day and self.days == EVERY_DAY and not self.closed_on_holidays


@dataclass(frozen=True)
class OutsideWindow:
    """Every instant outside another window.

    The on-call service (seeds/001_26f350c8b1308984.txt: "de 18h00 à 8h00 du lundi au
    vendredi, week-end et jours fériés") is exactly the complement of the coordinators'.
    """

    of: WeeklyWindow

    def __post_init__(self) -> None:
        if self.of.always_open:
            raise CalendarError("a window outside an always-open window never opens")

    @property
    def timezone(self) -> ZoneInfo:
        return self.of.timezone

    @property
    def holidays(self) -> PublicHolidays:
        return self.of.holidays

    def periods_starting_on(self, day: date) -> tuple[LocalPeriod, ...]:
        midnight = datetime.combine(day, time(0, 0))
        covered = sorted(
            (max(start, midnight), end)
            for start, end in (
                *self.of.periods_starting_on(day - _DAY),
                *self.of.periods_starting_on(day),
            )
            if end > midnight
        )
        gaps: list[LocalPeriod] = []
        cursor, day_end = midnight, midnight + _DAY
        for start, end in covered:
            if start > cursor:
                gaps.append((cursor, start))
            cursor = max(cursor, end)
            if cursor >= day_end:
                break
        if cursor < day_end:
            gaps.append((cursor, day_end))
        return tuple(gaps)


Window = WeeklyWindow | OutsideWindow
