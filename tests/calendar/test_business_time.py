"""Deadlines in business time: Pass 4H, severity targets, shipping cut-off."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from callrouter.calendar import (
    MONDAY_TO_FRIDAY,
    PARIS,
    HotlineCalendar,
    TimeRange,
    WeeklyWindow,
    add_business_days,
    add_business_time,
    next_business_day_if_before,
)

CALENDAR = HotlineCalendar.default()
COORDINATORS = CALENDAR.coordinators
ON_CALL = CALENDAR.on_call
SEVERITY = CALENDAR.window("severity")


def paris(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # The SPEC's example: a call at 17:00 is due at 11:00 the next business day.
        (paris(2026, 3, 10, 17, 0), paris(2026, 3, 11, 11, 0)),
        # Friday 17:00: over the weekend.
        (paris(2026, 3, 13, 17, 0), paris(2026, 3, 16, 11, 0)),
        # Good Friday 17:00: over the weekend and Easter Monday.
        (paris(2026, 4, 3, 17, 0), paris(2026, 4, 7, 11, 0)),
        # Thursday 13 May 17:00: Ascension on the 14th, Friday is a business day.
        (paris(2026, 5, 13, 17, 0), paris(2026, 5, 15, 11, 0)),
        # A call at 14:00 is due exactly at closing time, not the next morning.
        (paris(2026, 3, 10, 14, 0), paris(2026, 3, 10, 18, 0)),
        # A call in the night counts from the next opening.
        (paris(2026, 3, 10, 22, 0), paris(2026, 3, 11, 12, 0)),
        # Friday before each DST change: Monday 11:00 in the new offset.
        (paris(2026, 3, 27, 17, 0), datetime(2026, 3, 30, 9, 0, tzinfo=UTC)),
        (paris(2026, 10, 23, 17, 0), datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),
    ],
)
def test_four_business_hours_of_the_coordinators(start: datetime, due: datetime) -> None:
    assert add_business_time(COORDINATORS, start, timedelta(hours=4)) == due


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Severity 1, 2 business hours, over the lunch break.
        (paris(2026, 3, 10, 11, 30), 2, paris(2026, 3, 10, 15, 0)),
        # Severity 2, 4 business hours from 17:00: 1 h today, 3 h tomorrow from 09:00.
        (paris(2026, 3, 10, 17, 0), 4, paris(2026, 3, 11, 12, 0)),
        # Severity 4, 12 business hours: 7.5 h a day.
        (paris(2026, 3, 10, 9, 0), 12, paris(2026, 3, 11, 15, 0)),
        # Severity 3 during the lunch break: counting starts at 14:00.
        (paris(2026, 3, 10, 13, 0), 8, paris(2026, 3, 11, 14, 30)),
    ],
)
def test_severity_targets_in_split_business_hours(
    start: datetime, hours: int, due: datetime
) -> None:
    assert add_business_time(SEVERITY, start, timedelta(hours=hours)) == due


def test_seventy_two_business_hours() -> None:
    # 72 h = 7 days of 10 h + 2 h. From Monday 9 March 10:00: 8 h that day, then 6 more
    # full days reach Tuesday 17 March 18:00, leaving 4 h: Wednesday 18 March 12:00.
    due = add_business_time(COORDINATORS, paris(2026, 3, 9, 10, 0), timedelta(hours=72))
    assert due == paris(2026, 3, 18, 12, 0)


def test_on_call_business_time_counts_real_hours_over_the_dst_night() -> None:
    # Saturday 28 March 23:00 + 4 real hours: the clocks jump at 02:00, so it is 04:00.
    due = add_business_time(ON_CALL, paris(2026, 3, 28, 23, 0), timedelta(hours=4))
    assert due == paris(2026, 3, 29, 4, 0)
    # Saturday 24 October 23:00 + 4 real hours: 02:00 happens twice, so it is the second
    # 02:00 (CET, UTC+1).
    due = add_business_time(ON_CALL, paris(2026, 10, 24, 23, 0), timedelta(hours=4))
    assert due == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert due.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 10, 25, 2, 0)


@pytest.mark.parametrize(
    ("ranges", "hours", "due"),
    [
        # A range inside another: the hours they share count once.
        (("08:00-18:00", "09:00-12:00"), 11, paris(2026, 3, 11, 9, 0)),
        (("08:00-18:00", "09:00-12:00"), 2, paris(2026, 3, 10, 10, 0)),
        # Ranges that overlap: open from 08:00 to 16:00 without a break.
        (("08:00-12:00", "10:00-16:00"), 6, paris(2026, 3, 10, 14, 0)),
        (("08:00-12:00", "10:00-16:00"), 9, paris(2026, 3, 11, 9, 0)),
    ],
)
def test_overlapping_ranges_in_one_window(
    ranges: tuple[str, ...], hours: int, due: datetime
) -> None:
    window = WeeklyWindow(MONDAY_TO_FRIDAY, tuple(TimeRange.parse(r) for r in ranges))
    assert add_business_time(window, paris(2026, 3, 10, 8, 0), timedelta(hours=hours)) == due


def test_deadlines_are_utc() -> None:
    # From an open instant the deadline is counted from the instant itself.
    due = add_business_time(COORDINATORS, paris(2026, 3, 10, 9, 0), timedelta(hours=1))
    assert due.tzinfo is UTC
    assert add_business_days(COORDINATORS, paris(2026, 3, 10, 9, 0), 1).tzinfo is UTC


def test_zero_business_time_is_the_next_opening() -> None:
    assert add_business_time(COORDINATORS, paris(2026, 3, 14, 9, 0), timedelta(0)) == paris(
        2026, 3, 16, 8, 0
    )


def test_negative_business_time_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^business time cannot be negative$"):
        add_business_time(COORDINATORS, paris(2026, 3, 10, 9, 0), timedelta(hours=-1))


def test_negative_business_days_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^business days cannot be negative$"):
        add_business_days(COORDINATORS, paris(2026, 3, 10, 9, 0), -1)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (paris(2026, 3, 9, 10, 0), 2, paris(2026, 3, 11, 10, 0)),
        (paris(2026, 3, 12, 10, 0), 2, paris(2026, 3, 16, 10, 0)),
        (paris(2026, 4, 2, 10, 0), 2, paris(2026, 4, 7, 10, 0)),
        # Saturday: Monday is the first business day.
        (paris(2026, 3, 14, 10, 0), 1, paris(2026, 3, 16, 10, 0)),
        # Product expertise: 15 business days (seeds/001), over Easter Monday.
        (paris(2026, 3, 30, 10, 0), 15, paris(2026, 4, 21, 10, 0)),
        # Over the spring DST change: same wall-clock time.
        (paris(2026, 3, 27, 10, 0), 1, paris(2026, 3, 30, 10, 0)),
        (paris(2026, 3, 9, 10, 0), 0, paris(2026, 3, 9, 10, 0)),
    ],
)
def test_business_days(start: datetime, days: int, due: datetime) -> None:
    assert add_business_days(COORDINATORS, start, days) == due


@pytest.mark.parametrize(
    ("validated", "ships"),
    [
        (paris(2026, 3, 10, 15, 59), paris(2026, 3, 11, 8, 0)),
        (paris(2026, 3, 10, 16, 0), paris(2026, 3, 12, 8, 0)),
        (paris(2026, 3, 13, 15, 0), paris(2026, 3, 16, 8, 0)),
        (paris(2026, 3, 13, 17, 0), paris(2026, 3, 17, 8, 0)),
        (paris(2026, 3, 14, 11, 0), paris(2026, 3, 17, 8, 0)),
        (paris(2026, 4, 3, 10, 0), paris(2026, 4, 7, 8, 0)),
    ],
)
def test_next_business_day_if_validated_before_four(validated: datetime, ships: datetime) -> None:
    assert next_business_day_if_before(COORDINATORS, validated) == ships


def test_shipping_cutoff_is_configurable() -> None:
    validated = paris(2026, 3, 10, 12, 30)
    assert next_business_day_if_before(COORDINATORS, validated, time(12, 0)) == paris(
        2026, 3, 12, 8, 0
    )
