"""The call at an appointment's slot, on both databases, with a fake clock (no sleeping):
dialled from the slot's start, the reserved expert first; met before start + 15 min, else
broken and refunded once; the customer retried after 5 min; absences re-assign."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from callrouter.appointments.absences import AbsenceReassigner
from callrouter.appointments.cli import _print as print_listing_line
from callrouter.appointments.queries import (
    APPOINTMENTS,
    AppointmentFilter,
    AppointmentView,
    read_views,
)
from callrouter.appointments.routes import appointment
from callrouter.appointments.slotcalls import AppointmentStates
from callrouter.appointments.view import render_appointments
from callrouter.calendar import PARIS
from callrouter.callbacks.alerts import AlertKind, CallbackAlert, CallbackAlerts
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.placing import AttemptRequest, AttemptResult
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.rules import Outcome
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.callbacks.store import CALLBACKS
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine
from callrouter.experts.directory import EXPERTS
from callrouter.experts.rules import Expert
from callrouter.ledger.models import Movement

from .conftest import Desk, build_desk, paris

#: Booked a week ahead of the desk's clock (Monday 3 March 2025, 10:00 in Paris).
SLOT = paris(2025, 3, 10, 10, 0)
RDV_PRICE = 50


class FakePlacer:
    """Records the Originates asked for; the test answers them with results."""

    def __init__(self) -> None:
        self.placed: list[AttemptRequest] = []

    async def place(self, request: AttemptRequest) -> None:
        self.placed.append(request)

    async def reconcile(self, attempt_ids: Sequence[int]) -> dict[int, bool]:
        return dict.fromkeys(attempt_ids, False)


class SlotDesk:
    """The appointments desk plus the dispatcher's engine, its PBX and its alerts."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.clock = desk.clock
        self.placer = FakePlacer()
        self.alerts: list[CallbackAlert] = []
        self.hub = CallbackAlerts()
        self.hub.subscribe(self.alerts.append)
        #: Experts the PBX shows ringing or in a call.
        self.busy: set[str] = set()
        desk.experts.on_absence = AbsenceReassigner(desk.appointments, self.clock, self.hub).absent

    def engine(self, name: str = "test") -> CallbackEngine:
        return CallbackEngine(
            self.desk.engine,
            self.clock,
            CallbacksConfig(),
            self.placer,
            experts=self.desk.experts.all,
            free_experts=self._free,
            alerts=self.hub,
            name=name,
            follower=AppointmentStates(),
        )

    def _free(self, experts: Sequence[Expert], now: datetime) -> Sequence[Expert]:
        return [expert for expert in experts if expert.name not in self.busy]

    async def book(self, account: str | None = None) -> AppointmentView:
        account = account or await self.desk.account(500)
        return (await self.desk.book(account, SLOT)).appointment

    async def view(self, appointment_id: int) -> AppointmentView:
        async with self.desk.engine.connect() as connection:
            [view] = await read_views(connection, APPOINTMENTS.c.id == appointment_id)
        return view

    async def call(self, appointment_id: int) -> object:
        async with self.desk.engine.connect() as connection:
            return (
                await connection.execute(
                    select(CALLBACKS).where(CALLBACKS.c.appointment_id == appointment_id)
                )
            ).one()

    async def refunds(self, incident_id: int) -> int:
        async with self.desk.engine.connect() as connection:
            count = (
                await connection.execute(
                    select(func.count())
                    .select_from(Movement)
                    .where(Movement.incident_id == incident_id, Movement.kind == "refund")
                )
            ).scalar_one()
        return int(count)

    def result(self, request: AttemptRequest, outcome: Outcome) -> AttemptResult:
        at = self.clock.now()
        expert_answered = outcome not in (Outcome.EXPERT_NO_ANSWER, Outcome.EXPERT_BUSY)
        connected = outcome is Outcome.CONNECTED
        return AttemptResult(
            attempt_id=request.attempt_id,
            outcome=outcome,
            expert_answered_at=at if expert_answered else None,
            customer_answered_at=at if connected else None,
            connected_at=at if connected else None,
            ended_at=None if connected else at,
        )

    def at(self, after_start: timedelta) -> None:
        self.clock.set(SLOT + after_start)

    async def handed_over(self, engine: CallbackEngine) -> AttemptRequest:
        """The slot starts and its call is placed to the reserved expert, who does not
        answer: returns the attempt handed to another expert at once."""
        self.at(timedelta(0))
        await engine.run_once()
        [first] = self.placer.placed
        await engine.on_result(self.result(first, Outcome.EXPERT_NO_ANSWER))
        await engine.run_once()
        return self.placer.placed[1]


@pytest.fixture
async def slots(database_url: str) -> AsyncIterator[SlotDesk]:
    engine = create_engine(database_url)
    try:
        desk = build_desk(engine, FakeClock(paris(2025, 3, 3, 10, 0)))
        for index in (1, 2):
            await desk.experts.add(f"Expert {index}", f"PJSIP/expert{index}", ["knx"])
        yield SlotDesk(desk)
    finally:
        await engine.dispose()


async def test_booking_writes_the_call_at_the_slot_with_its_reserved_expert(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    call = await slots.call(view.id)
    assert call.not_before == SLOT  # type: ignore[attr-defined]
    assert call.due_at == SLOT + timedelta(minutes=15)  # type: ignore[attr-defined]
    assert call.warn_at == SLOT + timedelta(minutes=5)  # type: ignore[attr-defined]
    assert call.reserved_expert == view.expert_name == "Expert 1"  # type: ignore[attr-defined]
    assert call.number == "0612345678"  # type: ignore[attr-defined]


async def test_the_reserved_expert_is_dialled_at_the_slot_start_not_before(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.at(-timedelta(minutes=1))
    await engine.run_once()
    assert slots.placer.placed == []
    slots.at(timedelta(0))
    await engine.run_once()
    [request] = slots.placer.placed
    assert request.expert_interface == "PJSIP/expert1"
    assert request.customer_number == "0612345678"
    assert request.announcement == "appointment"
    assert (await slots.view(view.id)).state == "dialling"


async def test_met_at_14_59_after_the_start_is_not_broken(slots: SlotDesk) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.busy = {"Expert 1", "Expert 2"}
    slots.at(timedelta(minutes=14, seconds=59))
    slots.busy = set()
    await engine.run_once()
    [request] = slots.placer.placed
    await engine.on_result(slots.result(request, Outcome.CONNECTED))
    slots.at(timedelta(hours=1))
    await engine.run_once()
    assert (await slots.view(view.id)).state == "met"
    assert await slots.refunds(view.incident_id) == 0


async def test_not_met_at_15_00_is_broken_refunded_once_and_the_call_goes_on(
    slots: SlotDesk,
) -> None:
    account = await slots.desk.account(500)
    view = await slots.book(account)
    engine = slots.engine()
    slots.busy = {"Expert 1", "Expert 2"}
    slots.at(timedelta(minutes=15))
    await engine.run_once()
    await engine.run_once()
    await slots.engine("another process").run_once()
    assert await slots.refunds(view.incident_id) == 1
    assert await slots.desk.balance(account) == 500
    assert (await slots.view(view.id)).state == "broken"
    breached = [alert for alert in slots.alerts if alert.kind is AlertKind.BREACHED]
    assert len(breached) == 1 and f"appointment {view.id}" in breached[0].detail
    slots.busy = set()
    await engine.run_once()
    [request] = slots.placer.placed  # still called
    await engine.on_result(slots.result(request, Outcome.CONNECTED))
    assert (await slots.view(view.id)).state == "broken"
    assert await slots.refunds(view.incident_id) == 1


async def test_connected_after_the_quarter_hour_is_broken_and_refunded_once(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.at(timedelta(minutes=14))
    await engine.run_once()
    [request] = slots.placer.placed
    slots.at(timedelta(minutes=15, seconds=1))  # the deadline's timer has not run yet
    await engine.on_result(slots.result(request, Outcome.CONNECTED))
    await engine.run_once()
    assert (await slots.view(view.id)).state == "broken"
    assert await slots.refunds(view.incident_id) == 1


async def test_the_customer_not_answering_is_retried_after_5_minutes(slots: SlotDesk) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.at(timedelta(0))
    await engine.run_once()
    [first] = slots.placer.placed
    await engine.on_result(slots.result(first, Outcome.CUSTOMER_NO_ANSWER))
    slots.at(timedelta(minutes=4, seconds=59))
    await engine.run_once()
    assert len(slots.placer.placed) == 1
    slots.at(timedelta(minutes=5))
    await engine.run_once()
    second = slots.placer.placed[1]
    assert second.expert_interface == "PJSIP/expert1"  # the reserved expert again
    assert (await slots.view(view.id)).state == "dialling"


async def test_the_reserved_expert_not_answering_hands_over_to_another_at_once(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    engine = slots.engine()
    second = await slots.handed_over(engine)
    assert second.expert_interface == "PJSIP/expert2"
    await engine.on_result(slots.result(second, Outcome.CONNECTED))
    assert (await slots.view(view.id)).state == "met"


async def test_the_listing_names_the_expert_who_took_the_call_and_the_reserved_one(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.at(timedelta(0))
    await engine.run_once()
    [first] = slots.placer.placed
    # Dialling the reserved expert: they are the one named until an expert answers.
    assert appointment(await slots.view(view.id)).expert.name == "Expert 1"
    await engine.on_result(slots.result(first, Outcome.EXPERT_NO_ANSWER))
    await engine.run_once()
    second = slots.placer.placed[1]
    await engine.on_result(slots.result(second, Outcome.CUSTOMER_NO_ANSWER))
    # Expert 2 answered and is calling the customer (tried again in 5 minutes).
    listed = appointment(await slots.view(view.id))
    entries = {entry.expert.name: entry.id for entry in await slots.desk.experts.entries()}
    assert (listed.expert.name, listed.expert.id) == ("Expert 2", entries["Expert 2"])
    assert (listed.reserved_expert.name, listed.reserved_expert.id) == (
        "Expert 1",
        entries["Expert 1"],
    )
    # The demo screen's line names them too (`rdv list` reads the same property).
    [_, line] = render_appointments([await slots.view(view.id)], PARIS)
    assert "Expert 2" in line and "Expert 1" not in line


async def test_the_expert_filter_finds_the_expert_the_listing_names(slots: SlotDesk) -> None:
    view = await slots.book()
    entries = {entry.expert.name: entry.id for entry in await slots.desk.experts.entries()}

    async def listed_for(name: str) -> list[int]:
        found = await slots.desk.appointments.find(AppointmentFilter(expert_id=entries[name]))
        return [found_view.id for found_view in found]

    # Until an expert answers, the reserved one is named, and found.
    assert (await listed_for("Expert 1"), await listed_for("Expert 2")) == ([view.id], [])
    engine = slots.engine()
    await engine.on_result(slots.result(await slots.handed_over(engine), Outcome.CONNECTED))
    # Expert 2 took the call: the appointment is theirs in the listing, and in the filter.
    assert appointment(await slots.view(view.id)).expert.name == "Expert 2"
    assert (await listed_for("Expert 1"), await listed_for("Expert 2")) == ([], [view.id])


async def test_who_answered_is_named_alike_everywhere_when_the_directory_has_no_row_for_them(
    slots: SlotDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    view = await slots.book()
    reserved = {entry.expert.name: entry.id for entry in await slots.desk.experts.entries()}
    engine = slots.engine()
    second = await slots.handed_over(engine)
    # Expert 2 was removed a minute before this attempt was claimed (the dispatcher still
    # had them in its list): no directory row matches who answered.
    async with slots.desk.engine.begin() as connection:
        await connection.execute(
            update(EXPERTS)
            .where(EXPERTS.c.name == "Expert 2")
            .values(removed_at=slots.clock.now() - timedelta(minutes=1))
        )
    await engine.on_result(slots.result(second, Outcome.CUSTOMER_NO_ANSWER))
    taken = await slots.view(view.id)
    # The API: Expert 2 took the call, with no id; Expert 1 stays the reserved one, and the
    # appointment is no longer among Expert 1's.
    listed = appointment(taken)
    assert (listed.expert.id, listed.expert.name) == (None, "Expert 2")
    assert (listed.reserved_expert.id, listed.reserved_expert.name) == (
        reserved["Expert 1"],
        "Expert 1",
    )
    mine = await slots.desk.appointments.find(AppointmentFilter(expert_id=reserved["Expert 1"]))
    assert mine == []
    # `rdv list` and the demo screen name the same expert.
    capsys.readouterr()  # the log lines so far
    print_listing_line(taken, PARIS)
    line = capsys.readouterr().out
    assert "Expert 2" in line and "Expert 1" not in line
    [_, screen] = render_appointments([taken], PARIS)
    assert "Expert 2" in screen and "Expert 1" not in screen


async def test_a_busy_reserved_expert_is_replaced_by_a_free_one(slots: SlotDesk) -> None:
    await slots.book()
    engine = slots.engine()
    slots.busy = {"Expert 1"}
    slots.at(timedelta(0))
    await engine.run_once()
    [request] = slots.placer.placed
    assert request.expert_interface == "PJSIP/expert2"


async def test_the_reserved_expert_goes_to_their_appointment_before_an_earlier_deadline(
    slots: SlotDesk,
) -> None:
    """Their time is booked for it: the EDF pairing gets the other expert."""
    view = await slots.book()
    later = await slots.desk.book(await slots.desk.account(500), SLOT)  # Expert 2's
    assert later.appointment.expert_name == "Expert 2"
    async with slots.desk.engine.begin() as connection:
        # The second one's guarantee ends first, so it would be paired first.
        await connection.execute(
            CALLBACKS.update()
            .where(CALLBACKS.c.appointment_id == later.appointment.id)
            .values(due_at=SLOT + timedelta(minutes=10))
        )
    slots.at(timedelta(0))
    await slots.engine().run_once()
    by_interface = {r.expert_interface: r.callback_id for r in slots.placer.placed}
    assert by_interface["PJSIP/expert1"] == (await slots.call(view.id)).id  # type: ignore[attr-defined]


async def test_a_supervisor_is_warned_5_minutes_into_the_slot_with_nothing_under_way(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    engine = slots.engine()
    slots.busy = {"Expert 1", "Expert 2"}
    slots.at(timedelta(minutes=4, seconds=59))
    await engine.run_once()
    assert slots.alerts == []
    slots.at(timedelta(minutes=5))
    await engine.run_once()
    await engine.run_once()
    [alert] = slots.alerts
    assert alert.kind is AlertKind.AT_RISK and f"appointment {view.id}" in alert.detail


async def test_a_deadline_passed_while_stopped_is_refunded_at_start_up_once(
    slots: SlotDesk,
) -> None:
    view = await slots.book()
    slots.busy = {"Expert 1", "Expert 2"}
    slots.at(timedelta(minutes=20))
    for run in ("first start", "second start"):
        dispatcher = CallbackDispatcher(
            slots.desk.engine, slots.clock, CallbacksConfig(), slots.engine(run), exclusive=False
        )
        dispatcher.start()
        try:
            await dispatcher.leading.wait()
        finally:
            await dispatcher.close()
    assert await slots.refunds(view.incident_id) == 1
    assert (await slots.view(view.id)).state == "broken"


async def test_an_absence_after_booking_reassigns_the_appointment(slots: SlotDesk) -> None:
    view = await slots.book()
    await slots.desk.experts.absent(
        "Expert 1", paris(2025, 3, 10, 8, 0), paris(2025, 3, 10, 12, 0), "malade"
    )
    moved = await slots.view(view.id)
    assert moved.expert_name == "Expert 2"
    assert (await slots.call(view.id)).reserved_expert == "Expert 2"  # type: ignore[attr-defined]
    assert slots.alerts == []
    slots.at(timedelta(0))
    await slots.engine().run_once()
    [request] = slots.placer.placed
    assert request.expert_interface == "PJSIP/expert2"


async def test_an_absence_with_nobody_free_alerts_a_supervisor(slots: SlotDesk) -> None:
    view = await slots.book()
    await slots.book()  # Expert 2 is booked for the same slot
    await slots.desk.experts.absent(
        "Expert 1", paris(2025, 3, 10, 9, 0), paris(2025, 3, 10, 11, 0), "formation"
    )
    assert (await slots.view(view.id)).expert_name == "Expert 1"
    [alert] = slots.alerts
    assert alert.kind is AlertKind.NO_EXPERT and f"appointment {view.id}" in alert.detail


async def test_cancelling_and_moving_carry_the_call_along(slots: SlotDesk) -> None:
    kept = await slots.book()
    moved_to = SLOT + timedelta(days=1)
    await slots.desk.appointments.reschedule(kept.id, moved_to)
    call = await slots.call(kept.id)
    assert (call.not_before, call.due_at) == (moved_to, moved_to + timedelta(minutes=15))  # type: ignore[attr-defined]
    cancelled = await slots.book()
    await slots.desk.appointments.cancel(cancelled.id, "plus besoin")
    assert (await slots.call(cancelled.id)).close_reason == "cancelled"  # type: ignore[attr-defined]
    slots.at(timedelta(0))
    await slots.engine().run_once()
    assert slots.placer.placed == []  # one moved to tomorrow, one cancelled


async def test_the_4h_callback_surfaces_do_not_list_appointment_calls(slots: SlotDesk) -> None:
    await slots.book()
    queries = CallbackQueries(slots.desk.engine, slots.clock, CallbacksConfig().policy)
    assert await queries.page() == []
    assert await queries.open_counts() == {}
