"""When the hotline answers: windows, public holidays and business-time arithmetic."""

from callrouter.calendar.arithmetic import (
    add_business_days,
    add_business_time,
    is_open,
    next_business_day_if_before,
    next_closing,
    next_opening,
)
from callrouter.calendar.errors import CalendarError
from callrouter.calendar.french import describe_fr, format_instant_fr
from callrouter.calendar.hotline import (
    APPOINTMENTS,
    COORDINATORS,
    ON_CALL,
    SEVERITY,
    HotlineCalendar,
    default_windows,
)
from callrouter.calendar.public_holidays import PublicHolidays
from callrouter.calendar.windows import (
    EVERY_DAY,
    MONDAY_TO_FRIDAY,
    PARIS,
    OutsideWindow,
    TimeRange,
    Weekday,
    WeeklyWindow,
    Window,
    parse_time,
)

__all__ = [
    "APPOINTMENTS",
    "COORDINATORS",
    "EVERY_DAY",
    "MONDAY_TO_FRIDAY",
    "ON_CALL",
    "PARIS",
    "SEVERITY",
    "CalendarError",
    "HotlineCalendar",
    "OutsideWindow",
    "PublicHolidays",
    "TimeRange",
    "Weekday",
    "WeeklyWindow",
    "Window",
    "add_business_days",
    "add_business_time",
    "default_windows",
    "describe_fr",
    "format_instant_fr",
    "is_open",
    "next_business_day_if_before",
    "next_closing",
    "next_opening",
    "parse_time",
]
