"""An expert's absence recorded after appointments were booked with them.

Each booked appointment the absence overlaps gets another free expert of its domain for
its slot (the quarter hours' primary key keeps that safe against concurrent bookings, as
for a booking), and its call at the slot is told the new expert. When none is free the
appointment keeps its expert and a supervisor is alerted: at the slot the dispatcher rings
whoever of the domain is free then, and the guarantee still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.appointments.errors import SlotFull
from callrouter.appointments.queries import APPOINTMENTS, QUARTERS, AppointmentView, read_views
from callrouter.appointments.service import AppointmentService
from callrouter.appointments.slotcalls import reserve_slot_call
from callrouter.callbacks.alerts import AlertKind, CallbackAlert, CallbackAlerts
from callrouter.callbacks.store import CALLBACKS
from callrouter.clock import Clock
from callrouter.db.writer import write_transaction

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Reassigned:
    appointment_id: int
    start: datetime
    #: Reserved now; None when no other expert of the domain is free (a supervisor is told).
    expert: str | None


class AbsenceReassigner:
    def __init__(self, service: AppointmentService, clock: Clock, alerts: CallbackAlerts) -> None:
        self._service = service
        self._clock = clock
        self.alerts = alerts

    async def absent(self, expert_id: int, start: datetime, end: datetime) -> list[Reassigned]:
        """An absence of `expert_id` over [start, end) was just recorded (committed)."""
        now = self._clock.now()
        async with write_transaction(self._service.engine) as connection:
            hit = await read_views(
                connection,
                APPOINTMENTS.c.expert_id == expert_id,
                APPOINTMENTS.c.state == "booked",
                APPOINTMENTS.c.slot_start < end,
                APPOINTMENTS.c.slot_end > start,
                # Slots already started are the dispatcher's: it rings another expert.
                APPOINTMENTS.c.slot_start > now,
            )
            done = [await self._reassign(connection, view) for view in hit]
            left = await _calls_of(connection, [i.appointment_id for i in done if i.expert is None])
        for view, item in zip(hit, done, strict=True):
            log.info(
                "appointments.reassigned",
                appointment=item.appointment_id,
                absent=view.expert_name,
                expert=item.expert,
                start=item.start.isoformat(),
            )
            if item.expert is None:
                callback_id, due = left[view.id]
                self.alerts.publish(
                    CallbackAlert(
                        AlertKind.NO_EXPERT,
                        callback_id,
                        view.domain,
                        due,
                        now,
                        f"appointment {view.id}: {view.expert_name} is absent and no other "
                        f"expert of {view.domain} is free for its slot",
                    )
                )
        return done

    async def _reassign(self, connection: AsyncConnection, view: AppointmentView) -> Reassigned:
        try:
            async with connection.begin_nested():
                await connection.execute(
                    delete(QUARTERS).where(QUARTERS.c.appointment_id == view.id)
                )
                row: dict[str, object] = {"id": view.id}
                # The absent expert is off duty for the slot now: never a candidate.
                await self._service.reserve(connection, view.domain, view.start, view.end, row)
                [moved] = await read_views(connection, APPOINTMENTS.c.id == view.id)
                await reserve_slot_call(connection, view.id, moved.expert_name)
        except SlotFull:
            # Rolled back to its expert's quarters: the time stays theirs until someone acts.
            return Reassigned(view.id, view.start, None)
        return Reassigned(view.id, view.start, moved.expert_name)


async def _calls_of(
    connection: AsyncConnection, appointment_ids: list[int]
) -> dict[int, tuple[int, datetime]]:
    """The call (callback id, deadline) of each appointment."""
    if not appointment_ids:
        return {}
    rows = await connection.execute(
        select(CALLBACKS.c.appointment_id, CALLBACKS.c.id, CALLBACKS.c.due_at).where(
            CALLBACKS.c.appointment_id.in_(appointment_ids)
        )
    )
    return {row.appointment_id: (row.id, row.due_at) for row in rows}
