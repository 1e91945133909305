"""Opening and closing of the hotline's windows: edges, holidays, weekends, DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from callrouter.calendar import (
    EVERY_DAY,
    MONDAY_TO_FRIDAY,
    PARIS,
    CalendarError,
    HotlineCalendar,
    OutsideWindow,
    PublicHolidays,
    TimeRange,
    Weekday,
    WeeklyWindow,
    describe_fr,
    is_open,
    next_closing,
    next_opening,
    parse_time,
)

CALENDAR = HotlineCalendar.default()
COORDINATORS = CALENDAR.coordinators
ON_CALL = CALENDAR.on_call
APPOINTMENTS = CALENDAR.window("appointments")
SEVERITY = CALENDAR.window("severity")


def paris(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("instant", "coordinators_open"),
    [
        (paris(2026, 3, 10, 7, 59, 59), False),
        (paris(2026, 3, 10, 8, 0), True),
        (paris(2026, 3, 10, 17, 59, 59), True),
        (paris(2026, 3, 10, 18, 0), False),
        # DST days: the last Sundays of March and October fall on weekends, so the Monday
        # after, in the new offset, must keep the same wall-clock edges.
        (paris(2026, 3, 30, 7, 59, 59), False),
        (paris(2026, 3, 30, 8, 0), True),
        (paris(2026, 3, 30, 18, 0), False),
        (paris(2026, 10, 26, 8, 0), True),
        (paris(2026, 10, 26, 17, 59, 59), True),
        (paris(2026, 10, 26, 18, 0), False),
        # Weekend.
        (paris(2026, 3, 14, 10, 0), False),
        (paris(2026, 3, 15, 10, 0), False),
        # Public holidays on weekdays: Easter Monday, 1 May, Ascension, 14 July, Christmas.
        (paris(2026, 4, 6, 10, 0), False),
        (paris(2026, 5, 1, 10, 0), False),
        (paris(2026, 5, 14, 10, 0), False),
        (paris(2026, 7, 14, 10, 0), False),
        (paris(2026, 12, 25, 10, 0), False),
        # The day after a holiday is an ordinary day.
        (paris(2026, 4, 7, 10, 0), True),
    ],
)
def test_coordinators_and_on_call_are_exact_complements(
    instant: datetime, coordinators_open: bool
) -> None:
    assert is_open(COORDINATORS, instant) is coordinators_open
    assert is_open(ON_CALL, instant) is not coordinators_open


def test_edges_hold_in_utc_too() -> None:
    # 08:00 in Paris is 07:00 UTC in winter and 06:00 UTC in summer.
    assert is_open(COORDINATORS, datetime(2026, 1, 13, 7, 0, tzinfo=UTC))
    assert not is_open(COORDINATORS, datetime(2026, 1, 13, 6, 59, 59, tzinfo=UTC))
    assert is_open(COORDINATORS, datetime(2026, 7, 15, 6, 0, tzinfo=UTC))
    assert not is_open(COORDINATORS, datetime(2026, 7, 15, 5, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (paris(2026, 3, 10, 16, 59, 59), True),
        (paris(2026, 3, 10, 17, 0), False),
        (paris(2026, 4, 6, 9, 0), False),
        (paris(2026, 3, 14, 9, 0), False),
    ],
)
def test_appointments_window_closes_at_five(instant: datetime, expected: bool) -> None:
    assert is_open(APPOINTMENTS, instant) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (paris(2026, 3, 10, 8, 59, 59), False),
        (paris(2026, 3, 10, 9, 0), True),
        (paris(2026, 3, 10, 12, 29, 59), True),
        (paris(2026, 3, 10, 12, 30), False),
        (paris(2026, 3, 10, 13, 59, 59), False),
        (paris(2026, 3, 10, 14, 0), True),
        (paris(2026, 3, 10, 18, 0), False),
    ],
)
def test_split_severity_window(instant: datetime, expected: bool) -> None:
    assert is_open(SEVERITY, instant) is expected


def test_next_opening_over_lunch_break() -> None:
    assert next_opening(SEVERITY, paris(2026, 3, 10, 12, 45)) == paris(2026, 3, 10, 14, 0)


def test_next_opening_is_the_instant_itself_when_open() -> None:
    instant = paris(2026, 3, 10, 10, 15, 30)
    assert next_opening(COORDINATORS, instant) == instant


@pytest.mark.parametrize(
    ("instant", "opening"),
    [
        (paris(2026, 3, 10, 18, 0), paris(2026, 3, 11, 8, 0)),
        (paris(2026, 3, 13, 18, 30), paris(2026, 3, 16, 8, 0)),
        # Good Friday evening: Easter Monday is a holiday, coordinators are back Tuesday.
        (paris(2026, 4, 3, 19, 0), paris(2026, 4, 7, 8, 0)),
        # Christmas Eve evening in 2026 (Thursday): Friday 25 is off, Monday 28 opens.
        (paris(2026, 12, 24, 20, 0), paris(2026, 12, 28, 8, 0)),
        # Saturday of the spring DST weekend: Monday 08:00 is in the summer offset.
        (paris(2026, 3, 28, 12, 0), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        (paris(2026, 10, 24, 12, 0), datetime(2026, 10, 26, 7, 0, tzinfo=UTC)),
    ],
)
def test_next_opening_of_coordinators(instant: datetime, opening: datetime) -> None:
    assert next_opening(COORDINATORS, instant) == opening


def test_results_are_utc() -> None:
    # Closed and open, each answer in UTC, not just an instant equal to it.
    assert next_opening(COORDINATORS, paris(2026, 3, 10, 19, 0)).tzinfo is UTC
    assert next_opening(COORDINATORS, paris(2026, 3, 10, 10, 0)).tzinfo is UTC
    assert next_closing(COORDINATORS, paris(2026, 3, 10, 10, 0)).tzinfo is UTC
    assert next_closing(COORDINATORS, paris(2026, 3, 10, 19, 0)).tzinfo is UTC


def test_next_closing() -> None:
    assert next_closing(COORDINATORS, paris(2026, 3, 10, 9, 0)) == paris(2026, 3, 10, 18, 0)
    # Closed: the instant itself.
    assert next_closing(COORDINATORS, paris(2026, 3, 10, 19, 0)) == paris(2026, 3, 10, 19, 0)
    # On-call from Friday evening runs over the weekend and the Easter Monday in one go.
    assert next_closing(ON_CALL, paris(2026, 4, 3, 18, 0)) == paris(2026, 4, 7, 8, 0)


def test_on_call_covers_a_holiday_eve_night_and_the_whole_holiday() -> None:
    for hour in (0, 7, 8, 12, 18, 23):
        assert is_open(ON_CALL, paris(2026, 7, 14, hour, 0))
    assert is_open(ON_CALL, paris(2026, 7, 13, 23, 0))


def test_a_range_crossing_midnight_belongs_to_the_day_it_starts_on() -> None:
    nights = WeeklyWindow(
        frozenset({Weekday.MON}), (TimeRange.parse("18:00-08:00"),), closed_on_holidays=False
    )
    assert is_open(nights, paris(2026, 3, 9, 18, 0))
    assert is_open(nights, paris(2026, 3, 10, 7, 59, 59))
    assert not is_open(nights, paris(2026, 3, 10, 8, 0))
    assert not is_open(nights, paris(2026, 3, 10, 18, 0))


def test_a_night_window_over_the_spring_dst_change_is_one_hour_shorter() -> None:
    nights = WeeklyWindow(EVERY_DAY, (TimeRange.parse("23:00-08:00"),), closed_on_holidays=False)
    opened = paris(2026, 3, 28, 23, 0)
    closed = next_closing(nights, paris(2026, 3, 29, 1, 0))
    assert closed == paris(2026, 3, 29, 8, 0)
    assert closed - opened == timedelta(hours=8)


def test_an_hour_the_spring_change_skips_never_opens() -> None:
    # Sunday 29 March 2026 in Paris goes from 02:00 straight to 03:00.
    skipped = WeeklyWindow(EVERY_DAY, (TimeRange.parse("02:00-03:00"),), closed_on_holidays=False)
    assert next_opening(skipped, paris(2026, 3, 29, 0, 30)) == paris(2026, 3, 30, 2, 0)
    assert not is_open(skipped, paris(2026, 3, 29, 3, 0))


def test_the_day_a_period_starts_on_is_in_the_window_s_time_zone() -> None:
    # 18:00 on Tuesday in Los Angeles is already Wednesday in UTC; Monday's shift, which
    # runs to Tuesday 19:00 there, is still on.
    los_angeles = ZoneInfo("America/Los_Angeles")
    shift = WeeklyWindow(
        frozenset({Weekday.MON}),
        (TimeRange.parse("20:00-19:00"),),
        closed_on_holidays=False,
        timezone=los_angeles,
    )
    instant = datetime(2026, 3, 17, 18, 0, tzinfo=los_angeles)
    assert is_open(shift, instant)
    assert next_closing(shift, instant) == datetime(2026, 3, 17, 19, 0, tzinfo=los_angeles)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A naive local wall-clock time, as windows give their periods."""
    return datetime.combine(day, time(hour, minute))


TUESDAY = date(2026, 3, 10)
NIGHTS = WeeklyWindow(MONDAY_TO_FRIDAY, (TimeRange.parse("22:00-06:00"),), closed_on_holidays=False)


@pytest.mark.parametrize(
    ("day", "periods"),
    [
        # Monday's night runs into Tuesday morning, Tuesday's into Wednesday.
        (TUESDAY, ((local(TUESDAY, 6), local(TUESDAY, 22)),)),
        # Friday's night ends on Saturday morning; Saturday has no night of its own.
        (date(2026, 3, 14), ((local(date(2026, 3, 14), 6), local(date(2026, 3, 15), 0)),)),
        (date(2026, 3, 15), ((local(date(2026, 3, 15), 0), local(date(2026, 3, 16), 0)),)),
        # Monday: no night came from Sunday.
        (date(2026, 3, 16), ((local(date(2026, 3, 16), 0), local(date(2026, 3, 16), 22)),)),
    ],
)
def test_the_outside_of_a_window_crossing_midnight(
    day: date, periods: tuple[tuple[datetime, datetime], ...]
) -> None:
    assert OutsideWindow(NIGHTS).periods_starting_on(day) == periods


def test_the_outside_of_a_night_window_opens_and_closes_at_its_edges() -> None:
    days = OutsideWindow(NIGHTS)
    assert not is_open(days, paris(2026, 3, 10, 5, 59, 59))
    assert is_open(days, paris(2026, 3, 10, 6, 0))
    assert not is_open(days, paris(2026, 3, 10, 22, 0))
    assert next_opening(days, paris(2026, 3, 10, 23, 0)) == paris(2026, 3, 11, 6, 0)
    # From Saturday 06:00 the weekend and Monday touch: one stretch to Monday 22:00.
    assert next_closing(days, paris(2026, 3, 14, 12, 0)) == paris(2026, 3, 16, 22, 0)


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        # The outside starts and ends where the window does, with no empty period at an edge.
        ("00:00-08:00", ((local(TUESDAY, 8), local(date(2026, 3, 11), 0)),)),
        ("18:00-24:00", ((local(TUESDAY, 0), local(TUESDAY, 18)),)),
    ],
)
def test_the_outside_has_no_empty_period(
    inside: str, outside: tuple[tuple[datetime, datetime], ...]
) -> None:
    window = WeeklyWindow(EVERY_DAY, (TimeRange.parse(inside),), closed_on_holidays=False)
    assert OutsideWindow(window).periods_starting_on(TUESDAY) == outside


def test_touching_ranges_leave_no_empty_period_outside() -> None:
    window = WeeklyWindow(
        EVERY_DAY,
        (TimeRange.parse("08:00-12:00"), TimeRange.parse("12:00-18:00")),
        closed_on_holidays=False,
    )
    assert OutsideWindow(window).periods_starting_on(TUESDAY) == (
        (local(TUESDAY, 0), local(TUESDAY, 8)),
        (local(TUESDAY, 18), local(date(2026, 3, 11), 0)),
    )


def test_ranges_are_kept_in_the_order_of_the_day() -> None:
    afternoon, morning = TimeRange.parse("14:00-18:00"), TimeRange.parse("09:00-12:30")
    split = WeeklyWindow(MONDAY_TO_FRIDAY, (afternoon, morning))
    assert split.ranges == (morning, afternoon)
    assert split.periods_starting_on(TUESDAY) == (
        (local(TUESDAY, 9), local(TUESDAY, 12, 30)),
        (local(TUESDAY, 14), local(TUESDAY, 18)),
    )
    assert describe_fr(split) == (
        "du lundi au vendredi de 9h à 12h30 et de 14h à 18h, hors jours fériés"
    )


def test_holiday_closure_is_optional() -> None:
    open_on_holidays = WeeklyWindow(
        frozenset({Weekday.MON}), (TimeRange.parse("08:00-18:00"),), closed_on_holidays=False
    )
    assert is_open(open_on_holidays, paris(2026, 4, 6, 10, 0))


def test_holiday_subdivision_alsace_moselle_closes_on_st_stephen() -> None:
    alsace = WeeklyWindow(
        frozenset(Weekday), (TimeRange.parse("08:00-18:00"),), holidays=PublicHolidays("FR", "57")
    )
    assert not is_open(alsace, paris(2026, 12, 26, 10, 0))
    assert is_open(COORDINATORS, paris(2027, 12, 27, 10, 0))


def test_unknown_holiday_country_is_an_error() -> None:
    with pytest.raises(CalendarError, match="XX"):
        PublicHolidays("XX")


class NoOffset(tzinfo):
    """A time zone that does not know its offset: Python treats such instants as naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        is_open(COORDINATORS, datetime(2026, 3, 10, 10, 0))
    with pytest.raises(ValueError, match="has no time zone; calendar needs aware instants"):
        is_open(COORDINATORS, datetime(2026, 3, 10, 10, 0, tzinfo=NoOffset()))


def test_windows_need_days_and_ranges() -> None:
    with pytest.raises(CalendarError, match=r"^a weekly window needs at least one day$"):
        WeeklyWindow(frozenset(), (TimeRange.parse("08:00-18:00"),))
    with pytest.raises(CalendarError, match=r"^a weekly window needs at least one time range$"):
        WeeklyWindow(frozenset({Weekday.MON}), ())


def test_an_always_open_window_never_closes_and_has_no_outside() -> None:
    always = WeeklyWindow(EVERY_DAY, (TimeRange.parse("00:00-24:00"),), closed_on_holidays=False)
    assert is_open(always, paris(2026, 12, 25, 3, 0))
    with pytest.raises(
        CalendarError, match=r"^a window outside an always-open window never opens$"
    ):
        OutsideWindow(always)
    with pytest.raises(CalendarError, match="does not close"):
        next_closing(always, paris(2026, 3, 10, 10, 0))


@pytest.mark.parametrize(
    ("text", "start", "end", "crosses"),
    [
        ("08:00-18:00", time(8), time(18), False),
        ("9:00-12:30", time(9), time(12, 30), False),
        ("18:00-08:00", time(18), time(8), True),
        ("00:00-24:00", time(0), time(0), True),
    ],
)
def test_time_range_parsing(text: str, start: time, end: time, crosses: bool) -> None:
    parsed = TimeRange.parse(text)
    assert (parsed.start, parsed.end, parsed.crosses_midnight) == (start, end, crosses)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("08:00", "is not a range HH:MM-HH:MM"),
        ("25:00-26:00", "'25:00' is not a time HH:MM"),
        ("08:00-18:60", "'18:60' is not a time HH:MM"),
        ("24:00-08:00", "'24:00' is not a time HH:MM"),
        ("8h-18h", "'8h' is not a time HH:MM"),
        # The first dash splits: what follows it is not a time.
        ("08:00-12:00-18:00", "'12:00-18:00' is not a time HH:MM"),
    ],
)
def test_time_range_parsing_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeRange.parse(text)


@pytest.mark.parametrize("text", ["08:00-18:00", "09:00-12:30", "18:00-08:00", "00:00-24:00"])
def test_a_time_range_reads_as_the_configuration_writes_it(text: str) -> None:
    assert str(TimeRange.parse(text)) == text


@pytest.mark.parametrize(
    ("start", "end"), [(time(8, tzinfo=UTC), time(18)), (time(8), time(18, tzinfo=UTC))]
)
def test_a_time_range_is_wall_clock_time(start: time, end: time) -> None:
    with pytest.raises(
        ValueError, match=r"^a time range is local wall-clock time, without a time zone$"
    ):
        TimeRange(start, end)


def test_parse_time_and_weekday() -> None:
    assert parse_time("07:05") == time(7, 5)
    assert Weekday.parse("Sat") is Weekday.SAT
    with pytest.raises(
        ValueError,
        match=r"^'lundi' is not a day of the week \(mon, tue, wed, thu, fri, sat, sun\)$",
    ):
        Weekday.parse("lundi")
