"""The demo's experts and appointments: seeded on the next working day, once."""

from __future__ import annotations

from datetime import date

from callrouter.appointments.demo import seed_demo_appointments
from callrouter.appointments.queries import AppointmentFilter
from callrouter.appointments.view import render_appointments
from callrouter.calendar import PARIS
from callrouter.server.view import render_queues

from .conftest import Desk, paris


async def _customer(desk: Desk, name: str, caller_id: str) -> str:
    number = await desk.account(200, name)
    await desk.identity.add_beneficiary(number, name, caller_id)
    return number


async def test_seeded_on_the_next_working_day_once(desk: Desk) -> None:
    await _customer(desk, "Hôtel des Alpes", "0476000001")
    dupont = await _customer(desk, "Jean Dupont", "0612345678")
    desk.clock.set(paris(2025, 3, 7, 17, 50))  # a Friday evening, as the demo starts
    first = await seed_demo_appointments(desk.experts, desk.identity, desk.appointments, desk.clock)
    again = await seed_demo_appointments(desk.experts, desk.identity, desk.appointments, desk.clock)
    assert [b.replayed for b in first] == [False, False] and all(b.replayed for b in again)
    assert [e.name for e in await desk.experts.all()] == ["Chloe Bernard", "David Moreau"]
    starts = [b.appointment.start.astimezone(PARIS) for b in first]
    assert [s.date() for s in starts] == [date(2025, 3, 10)] * 2  # Monday
    assert [b.appointment.domain for b in first] == ["hvac", "knx"]
    assert await desk.balance(dupont) == 200 - 50


async def test_the_screen_lists_the_next_appointments(desk: Desk) -> None:
    await _customer(desk, "Hôtel des Alpes", "0476000001")
    await _customer(desk, "Jean Dupont", "0612345678")
    desk.clock.set(paris(2025, 3, 7, 17, 50))
    booked = await seed_demo_appointments(
        desk.experts, desk.identity, desk.appointments, desk.clock
    )
    desk.clock.set(paris(2025, 3, 3, 9, 0))
    await desk.appointments.cancel(booked[0].appointment.id, "")
    views = await desk.appointments.find(AppointmentFilter())
    lines = render_appointments(views, PARIS)
    assert lines == [
        "Next appointments (Pass RDV):",
        "    Mon 10 Mar 14:30-15:00  knx            Chloe Bernard      booked",
    ]
    screen = render_queues([], desk.clock.now(), PARIS, appointments=lines)
    assert "Next appointments (Pass RDV):" in screen
    assert render_appointments([], PARIS) == []
