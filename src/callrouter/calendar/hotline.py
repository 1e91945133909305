"""The hotline's named windows, with the SPEC's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from callrouter.calendar.errors import CalendarError
from callrouter.calendar.public_holidays import PublicHolidays
from callrouter.calendar.windows import (
    MONDAY_TO_FRIDAY,
    PARIS,
    OutsideWindow,
    TimeRange,
    WeeklyWindow,
    Window,
)

COORDINATORS = "coordinators"
APPOINTMENTS = "appointments"
ON_CALL = "on-call"
SEVERITY = "severity"


def default_windows(
    timezone: ZoneInfo = PARIS, holidays: PublicHolidays | None = None
) -> dict[str, Window]:
    """The SPEC's windows; the on-call one is whatever the coordinators' is not."""
    holidays = holidays if holidays is not None else PublicHolidays()
    coordinators = WeeklyWindow(
        # seeds/000_0e15b6772b2a7f9e.txt "du lundi au vendredi de 8h à 18h",
        # seeds/003_ab2166f4dc33fef9.txt "hors jours fériés".
        MONDAY_TO_FRIDAY,
        (TimeRange(time(8), time(18)),),
        True,
        timezone,
        holidays,
    )
    return {
        COORDINATORS: coordinators,
        # seeds/000_0e15b6772b2a7f9e.txt "Sur rendez-vous du lundi au vendredi de 8h à 17h".
        APPOINTMENTS: WeeklyWindow(
            MONDAY_TO_FRIDAY, (TimeRange(time(8), time(17)),), True, timezone, holidays
        ),
        # seeds/001_26f350c8b1308984.txt "astreinte de 18h00 à 8h00 du lundi au vendredi,
        # week-end et jours fériés".
        ON_CALL: OutsideWindow(coordinators),
        # seeds/002_5c4f5af87a477294.txt "du lundi au vendredi (hors jours fériés) de 9h à
        # 12h30 et de 14h à 18h".
        SEVERITY: WeeklyWindow(
            MONDAY_TO_FRIDAY,
            (TimeRange(time(9), time(12, 30)), TimeRange(time(14), time(18))),
            True,
            timezone,
            holidays,
        ),
    }


@dataclass(frozen=True)
class HotlineCalendar:
    """Named windows; the coordinators' and on-call ones are always there."""

    windows: Mapping[str, Window]

    def __post_init__(self) -> None:
        missing = sorted({COORDINATORS, ON_CALL} - set(self.windows))
        if missing:
            raise CalendarError(f"the hotline calendar needs the window(s) {', '.join(missing)}")
        object.__setattr__(self, "windows", MappingProxyType(dict(self.windows)))

    @classmethod
    def default(
        cls, timezone: ZoneInfo = PARIS, holidays: PublicHolidays | None = None
    ) -> HotlineCalendar:
        return cls(default_windows(timezone, holidays))

    def window(self, name: str) -> Window:
        try:
            return self.windows[name]
        except KeyError:
            known = ", ".join(sorted(self.windows))
            raise CalendarError(f"no window named '{name}' (known: {known})") from None

    @property
    def coordinators(self) -> Window:
        return self.windows[COORDINATORS]

    @property
    def on_call(self) -> Window:
        return self.windows[ON_CALL]
