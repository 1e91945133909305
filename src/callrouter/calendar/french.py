"""Windows and instants as a caller hears or reads them, in French.

The wording follows the seeds: "du lundi au vendredi de 8h à 18h"
(seeds/000_0e15b6772b2a7f9e.txt), "hors jours fériés" (seeds/003_ab2166f4dc33fef9.txt).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from callrouter.calendar.windows import (
    EVERY_DAY,
    OutsideWindow,
    TimeRange,
    Weekday,
    WeeklyWindow,
    Window,
)

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_WEEKEND = frozenset({Weekday.SAT, Weekday.SUN})


def _enumerate(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} et {items[-1]}"


def _hour(moment: time) -> str:
    if moment == time(0, 0):
        return "minuit"
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


def _range(time_range: TimeRange) -> str:
    if time_range.start == time_range.end == time(0, 0):
        return "toute la journée"
    return f"de {_hour(time_range.start)} à {_hour(time_range.end)}"


def _days(days: frozenset[Weekday]) -> str:
    if days == EVERY_DAY:
        return "tous les jours"
    if days == _WEEKEND:
        return "le week-end"
    run_starts = [day for day in days if Weekday((day - 1) % 7) not in days]
    if len(run_starts) == 1 and len(days) >= 3:
        first = run_starts[0]
        last = Weekday((first + len(days) - 1) % 7)
        return f"du {_DAYS[first]} au {_DAYS[last]}"
    return _enumerate([f"le {_DAYS[day]}" for day in sorted(days)])


def describe_fr(window: Window) -> str:
    """E.g. "du lundi au vendredi de 9h à 12h30 et de 14h à 18h, hors jours fériés"."""
    if isinstance(window, OutsideWindow):
        return _describe_outside(window.of)
    text = f"{_days(window.days)} {_enumerate([_range(r) for r in window.ranges])}"
    return f"{text}, hors jours fériés" if window.closed_on_holidays else text


def _describe_outside(inside: WeeklyWindow) -> str:
    if len(inside.ranges) != 1 or inside.ranges[0].crosses_midnight:
        return f"en dehors de ces horaires : {describe_fr(inside)}"
    (opening,) = inside.ranges
    parts = [f"{_days(inside.days)} de {_hour(opening.end)} à {_hour(opening.start)}"]
    other_days = EVERY_DAY - inside.days
    if other_days:
        parts.append(_days(other_days))
    if inside.closed_on_holidays:
        parts.append("les jours fériés")
    return _enumerate(parts)


def format_instant_fr(instant: datetime, timezone: ZoneInfo) -> str:
    """E.g. "mardi 7 avril à 8h", in the hotline's time zone."""
    local = instant.astimezone(timezone)
    day = f"{_DAYS[local.weekday()]} {local.day}{'er' if local.day == 1 else ''}"
    return f"{day} {_MONTHS[local.month - 1]} à {_hour(local.time())}"
