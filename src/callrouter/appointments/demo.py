"""The demo's experts and a few Pass RDV appointments, seeded once (re-runs replay them).

The experts are the simulator's `experts` queue members, so `GET /api/experts` shows their
live state as the simulated PBX reports it. The appointments are booked for the next
working day, as a coordinator would have booked them a week before."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from callrouter.appointments.service import AppointmentService, Booked, BookingRequest
from callrouter.calendar import next_opening
from callrouter.clock import Clock, FakeClock
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.errors import ExpertExists
from callrouter.identity.service import IdentityService
from callrouter.ledger.prices import AssistanceLevel

#: (name, PBX interface, domains): the demo PBX's experts queue.
DEMO_EXPERTS = (
    ("Chloe Bernard", "Local/agent3@agents", ("knx", "lighting")),
    ("David Moreau", "Local/agent4@agents", ("hvac", "access-control", "knx")),
)


@dataclass(frozen=True)
class DemoAppointment:
    caller_id: str
    domain: str
    local_time: time
    summary: str


DEMO_APPOINTMENTS = (
    DemoAppointment("0476000001", "hvac", time(10, 0), "Réglage de la régulation de chauffage"),
    DemoAppointment("0612345678", "knx", time(14, 30), "Programmation d'une passerelle KNX"),
)


async def seed_demo_appointments(
    directory: ExpertDirectory, identity: IdentityService, service: AppointmentService, clock: Clock
) -> list[Booked]:
    """Add the demo's experts, then book DEMO_APPOINTMENTS on the next working day."""
    for name, interface, domains in DEMO_EXPERTS:
        with contextlib.suppress(ExpertExists):
            await directory.add(name, interface, domains)
    window = service.window
    zone = window.timezone
    now = clock.now().astimezone(zone)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=zone)
    day = next_opening(window, tomorrow).astimezone(zone).date()
    # Booked a week and a day before: the minimum notice is met as it was then.
    then = service.with_clock(
        FakeClock(clock.now() - service.policy.minimum_notice - timedelta(days=1))
    )
    booked: list[Booked] = []
    for index, demo in enumerate(DEMO_APPOINTMENTS):
        account = (await identity.identify_caller(demo.caller_id, None, None)).account_number
        if account is None:
            continue
        booked.append(
            await then.book(
                BookingRequest(
                    account_number=account,
                    domain=demo.domain,
                    level=AssistanceLevel.STANDARD,
                    start=datetime.combine(day, demo.local_time, tzinfo=zone),
                    number_to_call=demo.caller_id,
                    summary=demo.summary,
                    idempotency_key=f"demo-rdv:{day.isoformat()}:{index}",
                    booked_by="démo",
                )
            )
        )
    return booked
