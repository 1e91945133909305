"""The [appointments] section, parsed and validated by callrouter.config."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrouter.appointments.rules import AppointmentPolicy
from callrouter.calendar import APPOINTMENTS


@dataclass(frozen=True)
class AppointmentsConfig:
    #: The calendar window slots must fit in ([calendar.windows.appointments] by default).
    window: str = APPOINTMENTS
    policy: AppointmentPolicy = field(default_factory=AppointmentPolicy)
