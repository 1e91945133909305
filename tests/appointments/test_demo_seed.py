"""The demo's experts and appointments: seeded on the next working day, once."""

from __future__ import annotations

from datetime import date

from callrouter.appointments.demo import seed_demo_appointments
from callrouter.calendar import PARIS

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
