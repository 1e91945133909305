"""Public holidays, from the `holidays` package (France by default, SPEC "Calendar")."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import holidays

from callrouter.calendar.errors import CalendarError


@dataclass(frozen=True)
class PublicHolidays:
    """The public holidays of a country, optionally of one of its subdivisions.

    seeds/003_ab2166f4dc33fef9.txt: "du lundi au Vendredi de 8h00 à 18h00 hors jours fériés".
    """

    country: str = "FR"
    subdivision: str | None = None

    def __post_init__(self) -> None:
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision, years=[])
        except NotImplementedError as error:
            # This is how the holidays package says it knows no such country/subdivision.
            raise CalendarError(str(error)) from None

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in _holidays_of(self.country, self.subdivision, day.year)


@functools.lru_cache(maxsize=128)
def _holidays_of(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # Building a year's holidays costs milliseconds; the routing path asks on every call.
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(found.keys())
