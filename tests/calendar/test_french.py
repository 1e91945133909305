"""What callers hear about opening hours."""

from __future__ import annotations

from datetime import datetime

import pytest

from callrouter.calendar import (
    EVERY_DAY,
    PARIS,
    HotlineCalendar,
    OutsideWindow,
    TimeRange,
    Weekday,
    WeeklyWindow,
    describe_fr,
    format_instant_fr,
)

CALENDAR = HotlineCalendar.default()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("coordinators", "du lundi au vendredi de 8h à 18h, hors jours fériés"),
        ("appointments", "du lundi au vendredi de 8h à 17h, hors jours fériés"),
        ("severity", "du lundi au vendredi de 9h à 12h30 et de 14h à 18h, hors jours fériés"),
        ("on-call", "du lundi au vendredi de 18h à 8h, le week-end et les jours fériés"),
    ],
)
def test_default_windows_in_french(name: str, text: str) -> None:
    assert describe_fr(CALENDAR.window(name)) == text


@pytest.mark.parametrize(
    ("days", "ranges", "holidays", "text"),
    [
        (EVERY_DAY, ("00:00-24:00",), False, "tous les jours toute la journée"),
        ({Weekday.SAT, Weekday.SUN}, ("09:00-12:00",), False, "le week-end de 9h à 12h"),
        (
            {Weekday.MON, Weekday.WED, Weekday.FRI},
            ("08:30-10:00",),
            True,
            "le lundi, le mercredi et le vendredi de 8h30 à 10h, hors jours fériés",
        ),
        (
            {Weekday.FRI, Weekday.SAT, Weekday.SUN, Weekday.MON},
            ("18:00-00:00",),
            False,
            "du vendredi au lundi de 18h à minuit",
        ),
    ],
)
def test_weekly_windows_in_french(
    days: set[Weekday], ranges: tuple[str, ...], holidays: bool, text: str
) -> None:
    window = WeeklyWindow(frozenset(days), tuple(TimeRange.parse(r) for r in ranges), holidays)
    assert describe_fr(window) == text


def test_outside_a_split_window_names_the_hours_it_excludes() -> None:
    outside = OutsideWindow(CALENDAR.window("severity"))  # type: ignore[arg-type]
    assert describe_fr(outside) == (
        "en dehors de ces horaires : "
        "du lundi au vendredi de 9h à 12h30 et de 14h à 18h, hors jours fériés"
    )


def test_instants_in_french_in_the_hotline_time_zone() -> None:
    assert format_instant_fr(datetime(2026, 4, 7, 6, 0, tzinfo=PARIS), PARIS) == (
        "mardi 7 avril à 6h"
    )
    summer_utc = datetime.fromisoformat("2026-06-01T06:30:00+00:00")
    assert format_instant_fr(summer_utc, PARIS) == "lundi 1er juin à 8h30"
