"""Appointments on a real database (SQLite, then PostgreSQL) with a hand-moved clock.

The clock starts on Monday 3 March 2025 at 10:00 in Paris: a week later, Monday 10 March,
is the first day a slot can be booked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.appointments.config import AppointmentsConfig
from callrouter.appointments.service import AppointmentService, Booked, BookingRequest
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.experts.config import ExpertsConfig
from callrouter.experts.directory import ExpertDirectory
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=PARIS)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


@dataclass
class Desk:
    """The coordinators' desk: the directory, the appointments, the ledger and accounts."""

    engine: AsyncEngine
    clock: FakeClock
    experts: ExpertDirectory
    appointments: AppointmentService
    ledger: LedgerService
    identity: IdentityService
    keys: int = 0

    async def account(self, points: int = 500, name: str = "Durand SA") -> str:
        number = (await self.identity.create_account(name)).number
        if points:
            await self.ledger.credit(number, points, reason="order", idempotency_key=f"o-{number}")
        return number

    async def book(
        self, account: str, start: datetime, domain: str = "knx", key: str | None = None
    ) -> Booked:
        self.keys += 1
        return await self.appointments.book(
            BookingRequest(
                account_number=account,
                domain=domain,
                level=AssistanceLevel.STANDARD,
                start=start,
                number_to_call="06 12 34 56 78",
                summary="réglage d'un variateur",
                idempotency_key=key or f"k{self.keys}",
                booked_by="Claire",
            )
        )

    async def balance(self, account: str) -> int:
        return (await self.identity.get_account(account)).balance


def build_desk(
    engine: AsyncEngine, clock: FakeClock, config: AppointmentsConfig | None = None
) -> Desk:
    sessions = session_factory(engine)
    calendar = HotlineCalendar.default()
    directory = ExpertDirectory(sessions, clock, calendar, ExpertsConfig())
    appointments_config = config or AppointmentsConfig()
    cheap = CodeHasher(web_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return Desk(
        engine=engine,
        clock=clock,
        experts=directory,
        appointments=AppointmentService(
            engine,
            clock,
            directory,
            calendar.window(appointments_config.window),
            appointments_config,
            LedgerConfig(),
        ),
        ledger=LedgerService(sessions, clock, LedgerConfig()),
        identity=IdentityService(sessions, clock, hasher=cheap),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def desk(database_url: str, clock: FakeClock) -> AsyncIterator[Desk]:
    engine = create_engine(database_url)
    try:
        yield build_desk(engine, clock)
    finally:
        await engine.dispose()


async def three_knx_experts(desk: Desk) -> None:
    for index in (1, 2, 3):
        await desk.experts.add(f"Expert {index}", f"PJSIP/expert{index}", ["knx"])


WEEK = timedelta(days=7)
