"""Booking, cancelling and moving Pass RDV appointments.

A booking is one transaction: the incident is opened and debited at the Pass RDV price
(callrouter.ledger.incidents.open_within), the appointment row is written and one expert's
quarter hours are reserved. A reservation that loses a race to another booking fails on
the primary key of `appointment_quarters` inside a savepoint and the next free expert is
tried; when none is left the whole transaction rolls back: no incident without its
appointment, no expert booked twice, no more bookings than experts. The call at the slot
(callrouter.appointments.slotcalls) is written, moved and cancelled in the same
transactions (an absence recorded after booking: callrouter.appointments.absences).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callrouter.appointments.config import AppointmentsConfig
from callrouter.appointments.errors import (
    AppointmentNotChangeable,
    SlotFull,
    SlotRefused,
    UnknownAppointment,
)
from callrouter.appointments.queries import (
    APPOINTMENTS,
    QUARTERS,
    AppointmentFilter,
    AppointmentView,
    domain_duty,
    find,
    read_views,
)
from callrouter.appointments.rules import (
    SlotAvailability,
    SlotProblem,
    availability,
    duty_stretches,
    full_refund_on_cancel,
    quarters,
    slot_problem,
    within,
)
from callrouter.appointments.slotcalls import (
    cancel_slot_call,
    move_slot_call,
    open_slot_call,
)
from callrouter.calendar import Window
from callrouter.clock import Clock
from callrouter.db.writer import is_sqlite, write_transaction
from callrouter.experts.directory import ExpertDirectory, ExpertEntry
from callrouter.identity.callerid import normalise_caller_id
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.errors import IdempotencyKeyReused
from callrouter.ledger.idempotency import check_key, idempotent
from callrouter.ledger.incidents import open_within
from callrouter.ledger.opening import OpeningRequest
from callrouter.ledger.prices import AssistanceLevel, Classification, points_due
from callrouter.ledger.refunds import refund_within
from callrouter.ledger.tables import INCIDENTS
from callrouter.passes import Pass

log = structlog.get_logger(__name__)

#: Put before a booking's key in its incident's opening key: a key a coordinator used for an
#: incident of their own never replays it as an appointment.
INCIDENT_KEY_PREFIX = "appointment:"

_SLOT_DETAIL = {
    SlotProblem.NOT_ALIGNED: "slots start on a quarter hour (:00, :15, :30, :45)",
    SlotProblem.OUTSIDE_WINDOW: "the whole slot must lie inside the appointments' hours",
    SlotProblem.TOO_SOON: "appointments are booked at least {notice} ahead",
    SlotProblem.TOO_FAR: "appointments are booked at most {horizon} ahead",
}


@dataclass(frozen=True)
class BookingRequest:
    account_number: str
    domain: str
    level: AssistanceLevel
    start: datetime
    number_to_call: str
    summary: str
    idempotency_key: str
    booked_by: str
    third_party: bool = False


@dataclass(frozen=True)
class Booked:
    appointment: AppointmentView
    debited: int
    balance: int
    replayed: bool


@dataclass(frozen=True)
class Cancelled:
    appointment: AppointmentView
    #: Points given back (0 when cancelled too late, or when it had been cancelled already).
    refunded: int
    replayed: bool


class AppointmentService:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        directory: ExpertDirectory,
        window: Window,
        config: AppointmentsConfig,
        ledger: LedgerConfig,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._directory = directory
        self.window = window
        self.policy = config.policy
        self._ledger = ledger
        self._config = config
        # Reads of one statement need no transaction: on PostgreSQL, without one, a read is
        # one round trip instead of three (BEGIN, the statement, ROLLBACK when returned to
        # the pool). SQLite keeps its own BEGIN (callrouter.db.engine), which this option
        # would undo when the connection goes back to the pool.
        self._reads = (
            engine if is_sqlite(engine) else engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    def with_clock(self, clock: Clock) -> AppointmentService:
        """The same service on another clock (the demo books as a week earlier)."""
        return AppointmentService(
            self.engine, clock, self._directory, self.window, self._config, self._ledger
        )

    def check_slot(self, start: datetime, now: datetime) -> None:
        problem = slot_problem(self.policy, self.window, start, now)
        if problem is not None:
            detail = _SLOT_DETAIL[problem].format(
                notice=f"{self.policy.minimum_notice.days} days",
                horizon=f"{self.policy.horizon.days // 7} weeks",
            )
            raise SlotRefused(problem, start, self.window.timezone, detail)

    async def availability(
        self, domain: str, start: datetime, end: datetime
    ) -> list[SlotAvailability]:
        """The bookable slots of `domain` in [start, end), each with its free experts."""
        self._directory.check_domains([domain])
        now = self._clock.now()
        async with self._reads.connect() as connection:
            experts, booked = await domain_duty(
                connection,
                domain,
                start,
                end + self.policy.slot_length,
                self._directory.hours_window,
            )
        return availability(self.policy, self.window, experts, booked, start, end, now)

    async def find(self, where: AppointmentFilter) -> list[AppointmentView]:
        async with self.engine.connect() as connection:
            return await find(connection, where)

    async def book(self, request: BookingRequest) -> Booked:
        """Open the incident, write the appointment, reserve an expert: all or nothing.

        Raises UnknownDomain, SlotRefused, SlotFull, AccountNotFound, InsufficientBalance,
        IdempotencyKeyReused. The same key again returns the first booking."""
        check_key(request.idempotency_key)
        self._directory.check_domains([request.domain])
        number = normalise_caller_id(request.number_to_call)
        incident_key = f"{INCIDENT_KEY_PREFIX}{request.idempotency_key}"
        price = self._ledger.prices.price(
            level=request.level, pass_=Pass.APPOINTMENT, third_party=request.third_party
        )
        due = points_due(price)
        opening = OpeningRequest(
            account_number=request.account_number,
            level=request.level,
            pass_=Pass.APPOINTMENT,
            third_party=request.third_party,
            emergency=False,
            classification=Classification.EXPERT,
            summary=request.summary,
            call=None,
        )

        async def replay() -> Booked | None:
            async with self.engine.connect() as connection:
                return await self._booked_by_key(connection, request)

        async def work() -> Booked:
            now = self._clock.now()
            async with write_transaction(self.engine) as connection:
                # A replay is found by the opening (its incident's key) or, when the slot is
                # refused by now (the notice ran out since), by the appointment's key.
                try:
                    self.check_slot(request.start, now)
                except SlotRefused:
                    earlier = await self._booked_by_key(connection, request)
                    if earlier is not None:
                        return earlier
                    raise
                opened = await open_within(connection, opening, incident_key, price, due, now)
                if opened.replayed:
                    earlier = await self._booked_by_key(connection, request)
                    if earlier is None:
                        raise IdempotencyKeyReused(request.idempotency_key, "another request")
                    return earlier
                end = request.start + self.policy.slot_length
                row = {
                    "account_id": select(INCIDENTS.c.account_id)
                    .where(INCIDENTS.c.id == opened.incident_id)
                    .scalar_subquery(),
                    "incident_id": opened.incident_id,
                    "domain": request.domain,
                    "slot_start": request.start,
                    "slot_end": end,
                    "number_to_call": number,
                    "summary": request.summary,
                    "level": request.level.value,
                    "third_party": request.third_party,
                    "state": "booked",
                    "booking_key": request.idempotency_key,
                    "booked_by": request.booked_by,
                    "booked_at": now,
                    "cancelled_at": None,
                    "cancel_refunded": None,
                }
                appointment_id = await self.reserve(
                    connection, request.domain, request.start, end, row
                )
                view = (await read_views(connection, APPOINTMENTS.c.id == appointment_id))[0]
                await open_slot_call(
                    connection,
                    self._config.calls,
                    appointment_id=view.id,
                    incident_id=view.incident_id,
                    domain=view.domain,
                    number=view.number_to_call,
                    expert=view.expert_name,
                    slot_start=view.start,
                    now=now,
                )
            log.info(
                "appointments.booked",
                appointment=appointment_id,
                account=request.account_number,
                domain=request.domain,
                start=request.start.isoformat(),
                expert=view.expert_name,
                incident=opened.incident_id,
            )
            return Booked(view, opened.debited, opened.balance, replayed=False)

        return await idempotent(work, replay)

    async def reserve(
        self,
        connection: AsyncConnection,
        domain: str,
        start: datetime,
        end: datetime,
        row: dict[str, object],
        keep: int | None = None,
    ) -> int:
        """Reserve a free expert of `domain` for [start, end) for the appointment `row`
        (inserted, or updated when it has an id); `keep` is tried first. Returns its id."""
        for candidate in await self._candidates(connection, domain, start, end, keep):
            try:
                async with connection.begin_nested():
                    appointment_id = await _write_appointment(connection, row, candidate.id)
                    await connection.execute(
                        insert(QUARTERS),
                        [
                            {
                                "expert_id": candidate.id,
                                "quarter_start": quarter,
                                "appointment_id": appointment_id,
                            }
                            for quarter in quarters(start, end)
                        ],
                    )
                return appointment_id
            except IntegrityError:
                # Another booking took this expert's time meanwhile: try the next one.
                log.debug("appointments.expert_taken", expert=candidate.expert.name)
        raise SlotFull(domain, start, self.window.timezone)

    async def _candidates(
        self,
        connection: AsyncConnection,
        domain: str,
        start: datetime,
        end: datetime,
        keep: int | None,
    ) -> list[ExpertEntry]:
        experts = await self._directory.read(connection, domain)
        taken = set(
            (
                await connection.execute(
                    select(QUARTERS.c.expert_id).where(
                        QUARTERS.c.expert_id.in_([e.id for e in experts]),
                        QUARTERS.c.quarter_start >= start,
                        QUARTERS.c.quarter_start < end,
                    )
                )
            ).scalars()
        )
        on_duty = [
            entry
            for entry in experts
            if entry.id not in taken
            and within(duty_stretches(entry.expert, start, end), start, end)
        ]
        return sorted(on_duty, key=lambda entry: (entry.id != keep, entry.expert.name))

    async def _booked_by_key(
        self, connection: AsyncConnection, request: BookingRequest
    ) -> Booked | None:
        views = await read_views(connection, APPOINTMENTS.c.booking_key == request.idempotency_key)
        if not views:
            return None
        view = views[0]
        asked = (request.account_number, request.domain, request.level, request.third_party)
        if asked != (view.account_number, view.domain, view.level, view.third_party) or (
            request.start != view.start
        ):
            raise IdempotencyKeyReused(
                request.idempotency_key, f"appointment {view.id}, a different booking"
            )
        return Booked(view, view.debited, view.balance_after, replayed=True)

    async def cancel(self, appointment_id: int, reason: str) -> Cancelled:
        """Cancel a booked appointment and free its expert. At least the configured notice
        before its start (24 h by default) the incident is refunded in full; later, not.
        Cancelling again changes nothing."""
        now = self._clock.now()
        async with write_transaction(self.engine) as connection:
            view = await _locked(connection, appointment_id)
            if view.state == "cancelled":
                return Cancelled(view, 0, replayed=True)
            if view.state != "booked" or view.start <= now:
                raise AppointmentNotChangeable(
                    f"appointment {appointment_id} is {view.state} and its slot has "
                    f"{'started' if view.start <= now else 'not started'}: it cannot be cancelled"
                )
            refund = full_refund_on_cancel(self.policy, view.start, now)
            await connection.execute(delete(QUARTERS).where(QUARTERS.c.appointment_id == view.id))
            await connection.execute(
                update(APPOINTMENTS)
                .where(APPOINTMENTS.c.id == view.id)
                .values(state="cancelled", cancelled_at=now, cancel_refunded=refund)
            )
            await cancel_slot_call(connection, view.id, now)
            points = 0
            if refund:
                done = await refund_within(
                    connection,
                    view.incident_id,
                    f"appointment {view.id} cancelled in time" + (f": {reason}" if reason else ""),
                    None,
                    now,
                )
                points = 0 if done.replayed else done.points
            cancelled = (await read_views(connection, APPOINTMENTS.c.id == view.id))[0]
        log.info("appointments.cancelled", appointment=view.id, refunded=points)
        return Cancelled(cancelled, points, replayed=False)

    async def reschedule(self, appointment_id: int, start: datetime) -> AppointmentView:
        """Move a booked appointment to another slot of the same domain, with the same expert
        when they are free then. Only until the full-refund notice before the current slot:
        later, moving it would dodge the late-cancellation rule."""
        now = self._clock.now()
        async with write_transaction(self.engine) as connection:
            view = await _locked(connection, appointment_id)
            if view.state != "booked" or not full_refund_on_cancel(self.policy, view.start, now):
                raise AppointmentNotChangeable(
                    f"appointment {appointment_id} ({view.state}) can only be moved while booked "
                    f"and at least {self.policy.full_refund_notice} before its start"
                )
            self.check_slot(start, now)
            await connection.execute(delete(QUARTERS).where(QUARTERS.c.appointment_id == view.id))
            end = start + self.policy.slot_length
            row: dict[str, object] = {"id": view.id, "slot_start": start, "slot_end": end}
            await self.reserve(connection, view.domain, start, end, row, keep=view.expert_id)
            moved = (await read_views(connection, APPOINTMENTS.c.id == view.id))[0]
            await move_slot_call(
                connection, self._config.calls, view.id, moved.start, moved.expert_name
            )
        log.info("appointments.moved", appointment=view.id, start=start.isoformat())
        return moved


async def _write_appointment(
    connection: AsyncConnection, row: dict[str, object], expert_id: int
) -> int:
    if "id" in row:
        appointment_id = int(str(row["id"]))
        values = {key: value for key, value in row.items() if key != "id"}
        await connection.execute(
            update(APPOINTMENTS)
            .where(APPOINTMENTS.c.id == appointment_id)
            .values(**values, expert_id=expert_id)
        )
        return appointment_id
    inserted: int = (
        await connection.execute(
            insert(APPOINTMENTS).values(**row, expert_id=expert_id).returning(APPOINTMENTS.c.id)
        )
    ).scalar_one()
    return inserted


async def _locked(connection: AsyncConnection, appointment_id: int) -> AppointmentView:
    # FOR UPDATE on PostgreSQL; SQLite's write transaction is already the only writer.
    await connection.execute(
        select(APPOINTMENTS.c.id).where(APPOINTMENTS.c.id == appointment_id).with_for_update()
    )
    views = await read_views(connection, APPOINTMENTS.c.id == appointment_id)
    if not views:
        raise UnknownAppointment(appointment_id)
    return views[0]
