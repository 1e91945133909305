"""How far the arithmetic looks ahead before it calls a window one that never opens or closes.

The hotline's own windows open every week, so they never come near the 400-day horizon;
these tests use a window open on chosen dates only, to put an opening right at its edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from callrouter.calendar import (
    CalendarError,
    TimeRange,
    Window,
    add_business_days,
    add_business_time,
    next_closing,
    next_opening,
)
from callrouter.calendar.windows import LocalPeriod

UTC_ZONE = ZoneInfo("UTC")
TODAY = date(2026, 1, 1)
NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC_ZONE)
HORIZON = 400


@dataclass(frozen=True)
class OnDates:
    """Open during `hours` on the given dates only (the Window interface, nothing more)."""

    dates: frozenset[date]
    hours: TimeRange
    timezone: ZoneInfo = UTC_ZONE

    def periods_starting_on(self, day: date) -> tuple[LocalPeriod, ...]:
        return (self.hours.on(day),) if day in self.dates else ()


def on_dates(dates: Iterable[date], hours: str = "09:00-17:00") -> Window:
    return cast(Window, OnDates(frozenset(dates), TimeRange.parse(hours)))


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC_ZONE)


def test_an_opening_within_the_horizon_is_found() -> None:
    # The search starts the day before, for a period begun then that is still running.
    last = TODAY + timedelta(days=HORIZON - 1)
    assert next_opening(on_dates([last]), NOON) == at(last, 9)


def test_a_window_closed_beyond_the_horizon_never_opens() -> None:
    too_late = TODAY + timedelta(days=HORIZON)
    with pytest.raises(CalendarError, match=r"^the window does not open within 400 days$"):
        next_opening(on_dates([too_late]), NOON)


def test_the_horizon_counts_from_the_last_opening() -> None:
    # Open tomorrow, then closed for 400 days: business time runs on past the gap.
    tomorrow = TODAY + timedelta(days=1)
    after_the_gap = tomorrow + timedelta(days=HORIZON + 1)
    window = on_dates([tomorrow, after_the_gap])
    due = add_business_time(window, NOON, timedelta(hours=9))
    assert due == at(after_the_gap, 10)


def test_the_next_business_day_at_the_horizon_is_found_and_not_beyond() -> None:
    last = TODAY + timedelta(days=HORIZON)
    assert add_business_days(on_dates([last]), NOON, 1) == at(last, 12)
    with pytest.raises(CalendarError, match=r"^the window does not open within 400 days$"):
        add_business_days(on_dates([last + timedelta(days=1)]), NOON, 1)


def test_a_stretch_of_exactly_the_horizon_still_closes() -> None:
    # Whole days from today on, 400 of them in a row, then one more opening later on.
    stretch = [TODAY + timedelta(days=n) for n in range(HORIZON)]
    window = on_dates([*stretch, TODAY + timedelta(days=HORIZON + 10)], "00:00-24:00")
    assert next_closing(window, at(TODAY, 0)) == at(TODAY + timedelta(days=HORIZON), 0)
