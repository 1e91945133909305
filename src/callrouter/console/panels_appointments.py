"""Today's appointments (Pass RDV): time, domain, expert (who took the call once one did,
else the reserved one), state in words, and the number the expert will call, masked as the
console's visibility says."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from callrouter.appointments.models import AppointmentState
from callrouter.appointments.queries import AppointmentFilter, AppointmentView
from callrouter.console.panel import Labels, PanelView
from callrouter.console.refunds_panel import start_of_day
from callrouter.http.access import mask_caller_id

APPOINTMENTS = "appointments"
POLL_SECONDS = 15.0
#: More than a day of appointments is not a panel any more: the API lists them all.
SHOWN = 100

#: The state as the page says it: a booked appointment is still to come.
STATE_WORDS = {
    AppointmentState.BOOKED: "upcoming",
    AppointmentState.DIALLING: "dialling",
    AppointmentState.MET: "met",
    AppointmentState.BROKEN: "broken",
    AppointmentState.CANCELLED: "cancelled",
}

Find = Callable[[AppointmentFilter], Awaitable[list[AppointmentView]]]


@dataclass(frozen=True)
class AppointmentLine:
    start: datetime
    domain: str
    expert: str
    state: str
    number: str


def today(now: datetime, timezone: ZoneInfo) -> AppointmentFilter:
    """The calendar day of `now` (local midnight to midnight, DST days included)."""
    start = start_of_day(now, timezone)
    end = start_of_day(start + timedelta(hours=36), timezone)
    return AppointmentFilter(since=start, until=end, limit=SHOWN)


class AppointmentsPanel:
    key = "appointments"
    topic = APPOINTMENTS
    topics = frozenset({APPOINTMENTS})
    interval = POLL_SECONDS
    labels: ClassVar[Labels] = {
        "en": {
            "panel.appointments": "Today's appointments",
            "appointments.total": "Appointments today: {count}",
            "appointments.at": "Time",
            "appointments.domain": "Domain",
            "appointments.expert": "Expert",
            "appointments.state": "State",
            "appointments.number": "Number to call",
            "appointments.none": "No appointment today.",
            "appointment.upcoming": "upcoming",
            "appointment.dialling": "dialling",
            "appointment.met": "met",
            "appointment.broken": "broken",
            "appointment.cancelled": "cancelled",
        },
        "fr": {
            "panel.appointments": "Rendez-vous du jour",
            "appointments.total": "Rendez-vous aujourd'hui : {count}",
            "appointments.at": "Heure",
            "appointments.domain": "Domaine",
            "appointments.expert": "Expert",
            "appointments.state": "État",
            "appointments.number": "Numéro à rappeler",
            "appointments.none": "Aucun rendez-vous aujourd'hui.",
            "appointment.upcoming": "à venir",
            "appointment.dialling": "appel en cours",
            "appointment.met": "tenu",
            "appointment.broken": "manqué",
            "appointment.cancelled": "annulé",
        },
    }

    def __init__(self, find: Find, timezone: ZoneInfo) -> None:
        self._find = find
        self._timezone = timezone
        self.lines: list[AppointmentLine] = []
        self.read = False

    async def refresh(self, now: datetime) -> bool:
        found = await self._find(today(now, self._timezone))
        lines = [
            AppointmentLine(
                start=view.start,
                domain=view.domain,
                expert=view.expert_on_call,
                state=STATE_WORDS[AppointmentState(view.state)],
                number=view.number_to_call,
            )
            for view in sorted(found, key=lambda view: (view.start, view.id))
        ]
        changed = not self.read or lines != self.lines
        self.lines, self.read = lines, True
        return changed

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        full = view.seen.full_caller_ids
        return {
            "configured": True,
            "read": self.read,
            "appointments": [
                {
                    "at": view.local(line.start),
                    "domain": line.domain,
                    "expert": line.expert,
                    "state": line.state,
                    "number": line.number if full else mask_caller_id(line.number),
                }
                for line in self.lines
            ],
        }
