"""Business-time arithmetic on windows, correct across DST changes and holidays.

Every function takes aware datetimes and returns aware datetimes in UTC. Durations are
real elapsed time: the night of a DST change lasts 7 or 9 hours between 23:00 and 08:00,
and business time counts what really elapses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import count

from callrouter.calendar.errors import CalendarError
from callrouter.calendar.windows import Window

Period = tuple[datetime, datetime]

#: A window that does not open (or close) within this many days never will: the longest
#: legitimate gap is a weekly window's week plus a run of holidays.
_HORIZON_DAYS = 400
_DAY = timedelta(days=1)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; calendar needs aware instants")


# Windows are immutable values: a day's periods are worked out once (every routed call asks
# whether the coordinators are open, which walks yesterday's and today's periods).
@lru_cache(maxsize=4096)
def _periods_of_day(window: Window, day: date) -> tuple[Period, ...]:
    """The periods starting on a local date, as UTC instants, in order."""
    periods: list[Period] = []
    for start, end in window.periods_starting_on(day):
        # fold=0: a wall time skipped in spring maps just after the jump, a repeated one in
        # autumn to its first occurrence.
        start_utc = start.replace(tzinfo=window.timezone).astimezone(UTC)
        end_utc = end.replace(tzinfo=window.timezone).astimezone(UTC)
        if end_utc > start_utc:
            periods.append((start_utc, end_utc))
    periods.sort()
    return tuple(periods)


def _periods(window: Window, instant: datetime) -> Iterator[Period]:
    """Periods that end after `instant`, ordered by start; they may overlap or touch."""
    _require_aware(instant)
    first_day = instant.astimezone(window.timezone).date() - _DAY
    idle_days = 0
    for offset in count():
        found = False
        for start, end in _periods_of_day(window, first_day + timedelta(days=offset)):
            if end > instant:
                found = True
                yield start, end
        idle_days = 0 if found else idle_days + 1
        if idle_days > _HORIZON_DAYS:
            raise CalendarError(f"the window does not open within {_HORIZON_DAYS} days")


def _is_business_day(window: Window, day: date) -> bool:
    return bool(_periods_of_day(window, day))


def _next_business_day(window: Window, day: date) -> date:
    for offset in range(1, _HORIZON_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if _is_business_day(window, candidate):
            return candidate
    raise CalendarError(f"the window does not open within {_HORIZON_DAYS} days")


def is_open(window: Window, instant: datetime) -> bool:
    """Whether the window is open at `instant` (start included, end excluded)."""
    start, _ = next(_periods(window, instant))
    return start <= instant


def next_opening(window: Window, instant: datetime) -> datetime:
    """The instant itself when the window is open, else the start of its next period."""
    start, _ = next(_periods(window, instant))
    return max(start, instant.astimezone(UTC))


def next_closing(window: Window, instant: datetime) -> datetime:
    """The end of the open stretch containing `instant`; the instant itself when closed.

    Touching periods are one stretch: the on-call window opened on Friday at 18:00 closes
    on Monday at 08:00.
    """
    periods = _periods(window, instant)
    start, end = next(periods)
    if start > instant:
        return instant.astimezone(UTC)
    while True:
        next_start, next_end = next(periods)
        if next_start > end:
            return end
        end = max(end, next_end)
        if end - instant > timedelta(days=_HORIZON_DAYS):
            raise CalendarError(f"the window does not close within {_HORIZON_DAYS} days")


def add_business_time(window: Window, start: datetime, duration: timedelta) -> datetime:
    """`start` plus `duration` counted only while the window is open.

    SPEC "Pass 4H" (choice): a call at 17:00 with 4 coordinator business hours to go is
    due at 11:00 the next business day. Also "2h/4h/8h/12h ouvrées"
    (seeds/002_5c4f5af87a477294.txt) and "72h ouvrées" (seeds/003_ab2166f4dc33fef9.txt).
    """
    if duration < timedelta(0):
        raise ValueError("business time cannot be negative")
    remaining = duration
    cursor = start.astimezone(UTC)
    periods = _periods(window, start)
    while True:
        period_start, period_end = next(periods)
        begin = max(period_start, cursor)
        if period_end <= begin:
            continue
        if begin + remaining <= period_end:
            return begin + remaining
        remaining -= period_end - begin
        cursor = period_end


def add_business_days(window: Window, start: datetime, days: int) -> datetime:
    """The same local wall time on the `days`-th business day after `start`'s date.

    A business day is a date on which the window opens ("2 jours ouvrés",
    seeds/001_26f350c8b1308984.txt). Zero days is `start` itself.
    """
    if days < 0:
        raise ValueError("business days cannot be negative")
    _require_aware(start)
    local = start.astimezone(window.timezone)
    day = local.date()
    for _ in range(days):
        day = _next_business_day(window, day)
    wall = datetime.combine(day, local.time(), tzinfo=window.timezone)
    return wall.astimezone(UTC)


def next_business_day_if_before(
    window: Window, instant: datetime, cutoff: time = time(16, 0)
) -> datetime:
    """When something validated at `instant` happens: the next business day's opening.

    seeds/003_ab2166f4dc33fef9.txt: the replacement ships "le jour suivant (jour ouvré)
    ... si la demande a été validée avant 16h le jour J". Validated at or after the cutoff,
    or on a day the window does not open, it counts as validated the next business day.
    """
    _require_aware(instant)
    local = instant.astimezone(window.timezone)
    validated = local.date()
    if not _is_business_day(window, validated) or local.time() >= cutoff:
        validated = _next_business_day(window, validated)
    first_start, _ = _periods_of_day(window, _next_business_day(window, validated))[0]
    return first_start
