"""Mounts the experts' and the appointments' routes on an aiohttp application."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.appointments.absences import AbsenceReassigner
from callrouter.appointments.config import AppointmentsConfig
from callrouter.appointments.routes import (
    APPOINTMENT_DESK,
    APPOINTMENT_ROUTES,
    HOLDER_APPOINTMENT_ROUTES,
    AppointmentDesk,
)
from callrouter.appointments.service import AppointmentService
from callrouter.calendar import HotlineCalendar
from callrouter.callbacks.alerts import CallbackAlerts
from callrouter.clock import Clock
from callrouter.experts.config import ExpertsConfig
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.routes import EXPERT_DESK, EXPERT_ROUTES, ExpertDesk
from callrouter.http.endpoint import add_endpoints
from callrouter.ledger.config import LedgerConfig
from callrouter.live.state import LiveState


def build_services(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    calendar: HotlineCalendar,
    experts: ExpertsConfig,
    appointments: AppointmentsConfig,
    ledger: LedgerConfig,
    alerts: CallbackAlerts | None = None,
) -> tuple[ExpertDirectory, AppointmentService]:
    """The directory and the appointments; an absence recorded in the directory re-assigns
    the appointments it hits, and `alerts` hears of those left without an expert."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("appointments need sessions bound to an AsyncEngine")
    directory = ExpertDirectory(sessions, clock, calendar, experts)
    service = AppointmentService(
        engine, clock, directory, calendar.window(appointments.window), appointments, ledger
    )
    directory.on_absence = AbsenceReassigner(service, clock, alerts or CallbackAlerts()).absent
    return directory, service


def setup_appointment_api(
    app: web.Application,
    *,
    directory: ExpertDirectory,
    service: AppointmentService,
    live: LiveState,
    clock: Clock,
) -> None:
    """Add /api/experts..., /api/appointments... and /api/account/appointments to `app`;
    their credentials are checked by the account API's identifier (setup_account_api)."""
    app[EXPERT_DESK] = ExpertDesk(directory, live, clock)
    app[APPOINTMENT_DESK] = AppointmentDesk(service, clock)
    add_endpoints(app, EXPERT_ROUTES)
    add_endpoints(app, APPOINTMENT_ROUTES)
    add_endpoints(app, HOLDER_APPOINTMENT_ROUTES)
