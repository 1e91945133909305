"""The [appointments] section, validated by `parse_appointments` on the table
callrouter.config hands over (documented in config/callrouter.toml)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from callrouter.appointments.calling import SlotCallPolicy, SlotCallRuleError
from callrouter.appointments.rules import AppointmentPolicy, AppointmentRuleError
from callrouter.calendar import APPOINTMENTS
from callrouter.errors import ConfigError
from callrouter.experts.config import ConfigTable, window_name

_KEYS = (
    *("window", "slot_minutes", "minimum_notice_days", "horizon_weeks"),
    "full_refund_notice_hours",
    *("guarantee_minutes", "retry_minutes", "warn_after_minutes"),
)


@dataclass(frozen=True)
class AppointmentsConfig:
    #: The calendar window slots must fit in ([calendar.windows.appointments] by default).
    window: str = APPOINTMENTS
    policy: AppointmentPolicy = field(default_factory=AppointmentPolicy)
    #: The call at the slot: its guarantee, retry delay and warning.
    calls: SlotCallPolicy = field(default_factory=SlotCallPolicy)


def parse_appointments(section: ConfigTable, windows: Iterable[str]) -> AppointmentsConfig:
    section.reject_unknown(_KEYS)
    defaults = AppointmentPolicy()
    slot_minutes = section.integer(
        "slot_minutes", defaults.slot_length // timedelta(minutes=1), 15, 480
    )
    if slot_minutes % 15:
        raise ConfigError(
            f"{section.key_path('slot_minutes')}: {slot_minutes} is not a whole number of "
            "quarter hours (15, 30, 45, 60...)"
        )
    notice = section.integer("minimum_notice_days", defaults.minimum_notice.days, 0, 365)
    weeks = section.integer("horizon_weeks", defaults.horizon.days // 7, 1, 104)
    refund_hours = section.integer(
        "full_refund_notice_hours", defaults.full_refund_notice // timedelta(hours=1), 0, 8760
    )
    try:
        policy = AppointmentPolicy(
            slot_length=timedelta(minutes=slot_minutes),
            minimum_notice=timedelta(days=notice),
            horizon=timedelta(weeks=weeks),
            full_refund_notice=timedelta(hours=refund_hours),
        )
    except AppointmentRuleError as error:
        raise ConfigError(f"{section.path}: {error}") from None
    window = window_name(section, "window", AppointmentsConfig.window, windows)
    return AppointmentsConfig(window=window, policy=policy, calls=_calls(section))


def _calls(section: ConfigTable) -> SlotCallPolicy:
    defaults = SlotCallPolicy()

    def minutes(key: str, default: timedelta) -> timedelta:
        return timedelta(minutes=section.integer(key, default // timedelta(minutes=1), 0, 240))

    try:
        return SlotCallPolicy(
            guarantee=minutes("guarantee_minutes", defaults.guarantee),
            retry_delay=minutes("retry_minutes", defaults.retry_delay),
            warn_after=minutes("warn_after_minutes", defaults.warn_after),
        )
    except SlotCallRuleError as error:
        raise ConfigError(f"{section.path}: {error}") from None
