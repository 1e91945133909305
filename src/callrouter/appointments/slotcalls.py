"""An appointment's call as a row of the callbacks' dispatcher, and its state following it.

Booking writes the call (a `callbacks` row with `appointment_id`, dialled from the slot's
start, due 15 minutes later, the reserved expert first) in the booking's transaction;
moving, re-assigning or cancelling the appointment changes it in theirs. The dispatcher
then places, retries, warns and refunds as it does for Pass 4H callbacks, and tells
`AppointmentStates` (a CallbackFollower) in its own transactions, so the appointment's
`state` moves with its call: dialling, then met or broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.appointments.calling import SlotCallPolicy, slot_call_times
from callrouter.appointments.models import AppointmentState
from callrouter.appointments.queries import APPOINTMENTS
from callrouter.callbacks import store
from callrouter.callbacks.store import CALLBACKS

_BOOKED = AppointmentState.BOOKED.value
_DIALLING = AppointmentState.DIALLING.value
#: States a call at the slot may still change (cancelled and the outcomes are final).
_UNDECIDED = (_BOOKED, _DIALLING)


async def open_slot_call(
    connection: AsyncConnection,
    policy: SlotCallPolicy,
    *,
    appointment_id: int,
    incident_id: int,
    domain: str,
    number: str,
    expert: str,
    slot_start: datetime,
    now: datetime,
) -> int:
    """The appointment's call, in the booking's transaction; returns the callback's id."""
    times = slot_call_times(policy, slot_start)
    return await store.insert_callback(
        connection,
        incident_id=incident_id,
        domain=domain,
        number=number,
        opened_at=now,
        due_at=times.due_at,
        not_before=times.not_before,
        appointment_id=appointment_id,
        reserved_expert=expert,
        warn_at=times.warn_at,
        retry_delay_s=int(policy.retry_delay.total_seconds()),
    )


async def move_slot_call(
    connection: AsyncConnection,
    policy: SlotCallPolicy,
    appointment_id: int,
    slot_start: datetime,
    expert: str,
) -> None:
    """The appointment moved to another slot (booked, so nothing was dialled yet)."""
    times = slot_call_times(policy, slot_start)
    await connection.execute(
        update(CALLBACKS)
        .where(CALLBACKS.c.appointment_id == appointment_id)
        .values(
            not_before=times.not_before,
            due_at=times.due_at,
            warn_at=times.warn_at,
            warned_at=None,
            reserved_expert=expert,
        )
    )


async def reserve_slot_call(connection: AsyncConnection, appointment_id: int, expert: str) -> None:
    """Another expert was reserved for the slot (the first one is absent)."""
    await connection.execute(
        update(CALLBACKS)
        .where(CALLBACKS.c.appointment_id == appointment_id)
        .values(reserved_expert=expert)
    )


async def cancel_slot_call(connection: AsyncConnection, appointment_id: int, now: datetime) -> None:
    """Cancelled: nothing is dialled (refunded or not, nobody owes the call any more)."""
    await connection.execute(
        update(CALLBACKS)
        .where(CALLBACKS.c.appointment_id == appointment_id, CALLBACKS.c.closed_at.is_(None))
        .values(closed_at=now, close_reason="cancelled")
    )


class AppointmentStates:
    """The appointment's `state` follows its call, in the dispatcher's transactions."""

    async def claimed(self, connection: AsyncConnection, callback_ids: Sequence[int]) -> None:
        if callback_ids:
            await self._set(connection, callback_ids, _DIALLING, (_BOOKED,))

    async def connected(self, connection: AsyncConnection, callback_id: int, late: bool) -> None:
        # Bridged after the quarter hour: broken (and refunded by the dispatcher) all the same.
        state = AppointmentState.BROKEN if late else AppointmentState.MET
        await self._set(connection, [callback_id], state.value, _UNDECIDED)

    async def breached(self, connection: AsyncConnection, callback_id: int) -> None:
        await self._set(connection, [callback_id], AppointmentState.BROKEN.value, _UNDECIDED)

    async def _set(
        self,
        connection: AsyncConnection,
        callback_ids: Sequence[int],
        state: str,
        from_states: Sequence[str],
    ) -> None:
        await connection.execute(
            update(APPOINTMENTS)
            .where(
                APPOINTMENTS.c.id.in_(
                    select(CALLBACKS.c.appointment_id).where(
                        CALLBACKS.c.id.in_(list(callback_ids)),
                        CALLBACKS.c.appointment_id.is_not(None),
                    )
                ),
                APPOINTMENTS.c.state.in_(list(from_states)),
            )
            .values(state=state)
        )
