"""The availability's one-statement read (appointments.queries.domain_duty) gives the rules
what the directory and the reserved quarter hours say, on both databases: the answer is
the one the rules give from `ExpertDirectory.entries` and every row of
`appointment_quarters`, read the plain way."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from callrouter.appointments.errors import SlotFull, SlotRefused
from callrouter.appointments.queries import QUARTERS
from callrouter.appointments.rules import SlotAvailability, availability

from .conftest import WEEK, Desk, paris

MONDAY_8 = paris(2025, 3, 10, 8, 0)
#: Windows of the default calendar an expert's hours may name.
HOURS = ("coordinators", "severity", "appointments")
DOMAINS = ("knx", "hvac", "lighting")


async def _reference(
    desk: Desk, domain: str, start: datetime, end: datetime
) -> list[SlotAvailability]:
    entries = await desk.experts.entries(domain)
    async with desk.engine.connect() as connection:
        rows = (await connection.execute(select(QUARTERS))).all()
    booked: dict[str, list[int]] = {entry.expert.name: [] for entry in entries}
    names = {entry.id: entry.expert.name for entry in entries}
    for row in rows:
        if row.expert_id in names:
            booked[names[row.expert_id]].append(int(row.quarter_start.timestamp()))
    service = desk.appointments
    experts = [entry.expert for entry in entries]
    return availability(
        service.policy, service.window, experts, booked, start, end, desk.clock.now()
    )


async def _random_directory(desk: Desk, rng: random.Random) -> list[datetime]:
    """Experts with random domains, hours and absences; the middle of each absence."""
    for index in range(8):
        domains = rng.sample(DOMAINS, rng.randint(1, 2))
        await desk.experts.add(
            f"Expert {index}", f"PJSIP/expert{index}", domains, rng.choice(HOURS)
        )
    await desk.experts.remove("Expert 7")
    middles: list[datetime] = []
    for index in range(7):
        for _ in range(rng.randint(0, 3)):
            # Some over before the horizon opens, some mid-quarter (even mid-second).
            start = MONDAY_8 + timedelta(
                days=rng.randint(-9, 12),
                minutes=rng.randint(0, 600),
                microseconds=rng.choice((0, 0, 250_000)),
            )
            length = timedelta(minutes=rng.randint(1, 300), microseconds=rng.choice((0, 1)))
            await desk.experts.absent(f"Expert {index}", start, start + length, "test")
            middles.append(start + length / 2)
    return middles


async def test_the_answer_is_the_rules_on_the_directory_and_the_quarters(desk: Desk) -> None:
    rng = random.Random(9)
    middles = await _random_directory(desk, rng)
    account = await desk.account(100_000)
    for _ in range(40):
        start = MONDAY_8 + timedelta(days=rng.randint(0, 11), minutes=15 * rng.randint(0, 34))
        with contextlib.suppress(SlotFull, SlotRefused):
            await desk.book(account, start, domain=rng.choice(DOMAINS))
    # Spans from inside absences too: one that began before the span still counts.
    spans = [(middle, middle + timedelta(hours=rng.randint(1, 30))) for middle in middles]
    spans.append((MONDAY_8 - WEEK, MONDAY_8 + 3 * WEEK))
    for domain in DOMAINS:
        for start, end in spans:
            found = await desk.appointments.availability(domain, start, end)
            assert found == await _reference(desk, domain, start, end)
        assert any(slot.capacity for slot in found) and not all(slot.capacity for slot in found)


async def test_a_domain_without_experts_has_slots_of_no_capacity(desk: Desk) -> None:
    await desk.experts.add("Expert 1", "PJSIP/expert1", ["knx"])
    # A week ahead of the clock (Monday 3 March, 10:00) is the first bookable start.
    monday_10 = MONDAY_8 + timedelta(hours=2)
    found = await desk.appointments.availability("hvac", monday_10, monday_10 + timedelta(hours=1))
    assert [(slot.start, slot.free) for slot in found][:2] == [
        (monday_10, ()),
        (monday_10 + timedelta(minutes=15), ()),
    ]
    assert all(slot.start.tzinfo is UTC for slot in found)
