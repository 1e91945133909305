"""The demo's terminal view says who is on call now, until when, and who comes next."""

from __future__ import annotations

from datetime import date, datetime, time

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician
from callrouter.server.view import render_oncall, render_queues

WINDOW = HotlineCalendar.default().on_call
PEOPLE = {name: Technician(name, f"PJSIP/{name}") for name in ("Emma", "Hugo", "Sophie")}
ROSTER = Roster(
    WINDOW,
    PEOPLE,
    {
        Layer.PRIMARY: Rotation(("Emma", "Hugo"), 1, time(18), date(2025, 3, 3)),
        Layer.MANAGER: Rotation(("Sophie",), 7, time(8), date(2025, 3, 3)),
    },
)


def test_night_and_day() -> None:
    night = datetime(2025, 3, 3, 18, 5, tzinfo=PARIS)
    assert render_oncall(ROSTER, night, PARIS) == [
        "On call now: primary Emma, manager Sophie until Tue 08:00",
        "Next on call, Tue 18:00: primary Hugo, manager Sophie",
    ]
    day = datetime(2025, 3, 4, 10, 0, tzinfo=PARIS)
    assert render_oncall(ROSTER, day, PARIS)[0] == (
        "On call now: nobody (coordinators' hours) until Tue 18:00"
    )


def test_no_roster() -> None:
    lines = render_oncall(Roster(WINDOW), datetime(2025, 3, 3, 20, 0, tzinfo=PARIS), PARIS)
    assert lines == ["On call: no roster set (callrouter oncall rotation set ...)"]


def test_the_screen_shows_it_under_the_title() -> None:
    now = datetime(2025, 3, 3, 18, 5, tzinfo=PARIS)
    screen = render_queues([], now, PARIS, oncall=render_oncall(ROSTER, now, PARIS))
    assert screen.splitlines()[1].startswith("On call now: primary Emma")
