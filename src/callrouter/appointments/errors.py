"""What a booking, a cancellation or a move refuses, each with a message for the coordinator.

Each error carries the HTTP status and code the API reports it with, and the field at fault:
the service knows best which input was wrong."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from callrouter.appointments.rules import SlotProblem
from callrouter.errors import CallrouterError


class AppointmentError(CallrouterError):
    status = 422
    code = "refused"
    field: str | None = None


class SlotRefused(AppointmentError):
    """The slot itself cannot be booked: too soon, too far, outside the window, misaligned."""

    field = "start"

    def __init__(self, problem: SlotProblem, start: datetime, zone: ZoneInfo, detail: str) -> None:
        local = start.astimezone(zone).isoformat(timespec="minutes")
        super().__init__(f"the slot at {local} cannot be booked: {detail}")
        self.problem = problem
        self.code = f"slot-{problem.value}"


class SlotFull(AppointmentError):
    status = 409
    code = "slot-full"
    field = "start"

    def __init__(self, domain: str, start: datetime, zone: ZoneInfo) -> None:
        local = start.astimezone(zone).isoformat(timespec="minutes")
        super().__init__(f"no expert of the domain {domain} is free for the slot at {local}")


class UnknownAppointment(AppointmentError):
    status = 404
    code = "not-found"

    def __init__(self, appointment_id: int) -> None:
        super().__init__(f"no appointment numbered {appointment_id}")


class AppointmentNotChangeable(AppointmentError):
    """Cancelled already, under way, or too close to its start to be moved."""

    status = 409
    code = "not-changeable"
