"""Routes of Pass RDV appointments: availability, booking, cancel and move for the staff;
the holder's own appointments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from aiohttp import web

from callrouter.accounts.problems import api_error
from callrouter.appointments import schemas
from callrouter.appointments.errors import AppointmentError
from callrouter.appointments.models import AppointmentState
from callrouter.appointments.queries import AppointmentFilter, AppointmentView, named_expert
from callrouter.appointments.rules import SlotAvailability
from callrouter.appointments.service import AppointmentService, BookingRequest
from callrouter.clock import Clock
from callrouter.errors import CallrouterError
from callrouter.experts.errors import ExpertError
from callrouter.experts.routes import expert_api_error
from callrouter.http.access import MASK, Role, mask_caller_id
from callrouter.http.endpoint import Call, Endpoints, Plain
from callrouter.http.errors import ApiError, InvalidInput
from callrouter.identity.errors import InvalidCallerId

APPOINTMENT_ROUTES = Endpoints("appointments")
HOLDER_APPOINTMENT_ROUTES = Endpoints("account holder")
READERS = (Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN)
# Booked, cancelled and moved by whoever takes the calls, as incidents are.
BOOKERS = (Role.COORDINATOR, Role.ADMIN)
#: The longest stretch one availability query may cover.
MAX_AVAILABILITY_SPAN = timedelta(weeks=9)


@dataclass(frozen=True)
class AppointmentDesk:
    service: AppointmentService
    clock: Clock


APPOINTMENT_DESK = web.AppKey("appointment_desk", AppointmentDesk)


@contextmanager
def reported(clock: Clock) -> Iterator[None]:
    try:
        yield
    except AppointmentError as error:
        raise ApiError(error.status, error.code, str(error), field=error.field) from error
    except ExpertError as error:
        raise expert_api_error(error) from error
    except InvalidCallerId as error:
        raise ApiError(400, "invalid-input", str(error), field="number_to_call") from error
    except CallrouterError as error:
        raise api_error(error, clock) from error


@APPOINTMENT_ROUTES.route(
    "GET",
    "/api/appointments/availability",
    "Bookable slots of a domain with their capacity",
    roles=READERS,
    errors=(422,),
)
async def availability(call: Call, query: schemas.AvailabilityQuery) -> Plain[schemas.Availability]:
    desk = call.request.app[APPOINTMENT_DESK]
    if query.to <= query.from_:
        raise InvalidInput("to", "to must be later than from")
    if query.to - query.from_ > MAX_AVAILABILITY_SPAN:
        raise InvalidInput("to", f"one query covers at most {MAX_AVAILABILITY_SPAN.days} days")
    with reported(desk.clock):
        slots = await desk.service.availability(query.domain, query.from_, query.to)
    return availability_answer(query.domain, desk.service.policy.slot_length, slots)


def availability_answer(
    domain: str, slot_length: timedelta, slots: list[SlotAvailability]
) -> Plain[schemas.Availability]:
    """The availability route's answer (bench/appointments.py times it too), as plain data
    written straight to JSON: 8 weeks (1,191 slots of 10 experts) cost 4.5 ms of CPU
    checked as a model, dumped and `json.dumps`ed, 1.5 ms so. A model built per slot
    without checks (`model_construct`) cost more than checking them all in one call."""
    document: schemas.AvailabilityDocument = {
        "domain": domain,
        "slot_minutes": int(slot_length.total_seconds() // 60),
        "items": [
            {
                "start": slot.start,
                "end": slot.end,
                "capacity": len(slot.free),
                "experts": list(slot.free),
            }
            for slot in slots
        ],
    }
    return Plain(schemas.AVAILABILITY_WRITER, document)


@APPOINTMENT_ROUTES.route(
    "POST",
    "/api/appointments",
    "Book an appointment: opens the Pass RDV incident and reserves an expert",
    roles=BOOKERS,
    status=201,
    errors=(402, 404, 409, 422),
    other_statuses={200: "Replayed: a repeated idempotency key gets the first result."},
)
async def book(call: Call, body: schemas.NewAppointment) -> schemas.Booked:
    desk = call.request.app[APPOINTMENT_DESK]
    with reported(desk.clock):
        booked = await desk.service.book(
            BookingRequest(
                account_number=body.account_number,
                domain=body.domain,
                level=body.level,
                third_party=body.third_party,
                start=body.start,
                number_to_call=body.number_to_call,
                summary=body.summary or "",
                idempotency_key=f"api:{call.who.key_id}:{body.idempotency_key}",
                booked_by=call.who.subject,
            )
        )
    return schemas.Booked(
        appointment=appointment(booked.appointment),
        debit=schemas.Debit(points=booked.debited, balance=booked.balance),
        replayed=booked.replayed,
    )


@APPOINTMENT_ROUTES.route(
    "GET", "/api/appointments", "Appointments by day, domain, expert, state", roles=READERS
)
async def list_appointments(call: Call, query: schemas.AppointmentQuery) -> schemas.AppointmentList:
    desk = call.request.app[APPOINTMENT_DESK]
    since = until = None
    if query.day is not None:
        zone = desk.service.window.timezone
        since = datetime.combine(query.day, time(0), tzinfo=zone)
        until = datetime.combine(query.day + timedelta(days=1), time(0), tzinfo=zone)
    views = await desk.service.find(
        AppointmentFilter(
            since=since,
            until=until,
            domain=query.domain,
            expert_id=query.expert_id,
            state=query.state,
            limit=query.limit,
        )
    )
    items = [appointment(view) for view in views]
    if call.who.role is Role.SUPERVISOR:
        # Supervisors watch the work, they do not call customers: no account or number.
        items = [
            item.model_copy(
                update={
                    "account_number": MASK * len(item.account_number),
                    "number_to_call": mask_caller_id(item.number_to_call),
                }
            )
            for item in items
        ]
    return schemas.AppointmentList(items=items)


@APPOINTMENT_ROUTES.route(
    "POST",
    "/api/appointments/{appointment_id}/cancel",
    "Cancel an appointment (refunded in full when early enough) and free its expert",
    roles=BOOKERS,
    errors=(409,),
)
async def cancel(
    call: Call, path: schemas.AppointmentPath, body: schemas.Cancel
) -> schemas.Cancelled:
    desk = call.request.app[APPOINTMENT_DESK]
    why = f"by {call.who.subject}" + (f": {body.reason}" if body.reason else "")
    with reported(desk.clock):
        cancelled = await desk.service.cancel(path.appointment_id, why)
    return schemas.Cancelled(
        appointment=appointment(cancelled.appointment),
        refunded_points=cancelled.refunded,
        replayed=cancelled.replayed,
    )


@APPOINTMENT_ROUTES.route(
    "POST",
    "/api/appointments/{appointment_id}/reschedule",
    "Move an appointment to another slot",
    roles=BOOKERS,
    errors=(409, 422),
)
async def reschedule(
    call: Call, path: schemas.AppointmentPath, body: schemas.Reschedule
) -> schemas.Appointment:
    desk = call.request.app[APPOINTMENT_DESK]
    with reported(desk.clock):
        moved = await desk.service.reschedule(path.appointment_id, body.start)
    return appointment(moved)


@HOLDER_APPOINTMENT_ROUTES.route(
    "GET", "/api/account/appointments", "The account's appointments", roles=(Role.HOLDER,)
)
async def my_appointments(call: Call) -> schemas.HolderAppointmentList:
    desk = call.request.app[APPOINTMENT_DESK]
    views = await desk.service.find(AppointmentFilter(account_number=call.who.subject))
    return schemas.HolderAppointmentList(items=[_holder_view(view) for view in views])


def _holder_view(view: AppointmentView) -> schemas.HolderAppointment:
    return schemas.HolderAppointment(
        id=view.id,
        incident_id=view.incident_id,
        domain=view.domain,
        start=view.start,
        end=view.end,
        number_to_call=view.number_to_call,
        summary=view.summary,
        level=view.level,
        third_party=view.third_party,
        state=AppointmentState(view.state),
        cancelled_at=view.cancelled_at,
    )


def appointment(view: AppointmentView) -> schemas.Appointment:
    return schemas.Appointment(
        **_holder_view(view).model_dump(),
        account_number=view.account_number,
        expert=_expert_of_the_call(view),
        reserved_expert=schemas.ExpertRef(id=view.expert_id, name=view.expert_name),
        booked_by=view.booked_by,
        booked_at=view.booked_at,
        cancel_refunded=view.cancel_refunded,
    )


def _expert_of_the_call(view: AppointmentView) -> schemas.ExpertOnCall:
    named = named_expert(view)
    return schemas.ExpertOnCall(id=named.id, name=named.name)
