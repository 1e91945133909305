"""The call at an appointment's slot end to end over real TCP: the running hotline
(database, dispatcher, AMI placer) against the PBX simulator, the hotline's clock moved by
hand (the simulator runs 100 times faster than its people).

The simulator's experts queue holds Chloé Bernard (Local/agent3@agents) and David Moreau
(Local/agent4@agents); customers 0699xxxxxx never answer (ami-traces/configs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from callrouter.accounts.operators import OperatorService
from callrouter.appointments.queries import AppointmentView
from callrouter.appointments.service import BookingRequest
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.store import ATTEMPTS, CALLBACKS
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.http.access import Role
from callrouter.ledger.models import Movement
from callrouter.ledger.prices import AssistanceLevel
from callrouter.pbxsim import PBXSimulator, SimulatorSettings
from callrouter.pbxsim.settings import LAB_ENDPOINTS
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

from ..callbacks.test_pbx_sim import Proxy

PARIS = ZoneInfo("Europe/Paris")
#: Booked on Tuesday 24 November 2026 at 10:00 for the next Tuesday at 10:00.
BOOKED_AT = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
SLOT = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
SECRET = "s3cret-for-tests"
LIMIT = 20.0


@asynccontextmanager
async def simulator(*endpoints: tuple[str, str, str]) -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="callrouter",
            secret=SECRET,
            time_scale=0.01,
            answer_delay=(2.0, 2.0),
            talk_time=(600.0, 600.0),
            login_failure_delay=0.0,
            seed=7,
            endpoints=(*endpoints, *LAB_ENDPOINTS),
        )
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@asynccontextmanager
async def hotline_on(
    port: int, database: Path, clock: FakeClock
) -> AsyncIterator[tuple[Hotline, TestClient[object, object]]]:
    hotline = Hotline(
        config=Config(),
        database_url=f"sqlite+aiosqlite:///{database}",
        pbx=PBXLink("127.0.0.1", port, "callrouter", SECRET),
        clock=clock,
        callback_placer=lambda client, on_result: AMIPlacer(client, on_result, clock=clock),
    )
    client: TestClient[object, object] = TestClient(TestServer(build_app(hotline)))
    await client.start_server()
    try:
        await until(lambda: hotline.ami is not None and hotline.ami.connected)
        await until(lambda: hotline.callbacks is not None and hotline.callbacks.leading.is_set())
        yield hotline, client
    finally:
        await client.close()


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(LIMIT):
        while not check():
            await asyncio.sleep(0.01)


async def book(hotline: Hotline, number: str = "0612345678") -> AppointmentView:
    """Two experts of the domain, an account, and an appointment with Chloé Bernard."""
    assert hotline.experts is not None and hotline.identity is not None
    assert hotline.ledger is not None and hotline.appointments is not None
    await hotline.experts.add("Chloé Bernard", "Local/agent3@agents", ["knx"])
    await hotline.experts.add("David Moreau", "Local/agent4@agents", ["knx"])
    account = await hotline.identity.create_account("Durand SA", pin="903114")
    await hotline.ledger.credit(account.number, 500, reason="test", idempotency_key="t:1")
    booked = await hotline.appointments.book(
        BookingRequest(
            account_number=account.number,
            domain="knx",
            level=AssistanceLevel.STANDARD,
            start=SLOT,
            number_to_call=number,
            summary="réglage d'un variateur",
            idempotency_key="rdv-1",
            booked_by="Claire",
        )
    )
    assert booked.appointment.expert_name == "Chloé Bernard"
    return booked.appointment


_KEYS: dict[int, str] = {}


async def state(client: TestClient[object, object], hotline: Hotline, appointment: int) -> str:
    """The appointment's state as staff read it: GET /api/appointments."""
    if id(hotline) not in _KEYS:
        operators = OperatorService(hotline.require_sessions(), hotline.clock)
        admin = await operators.create(f"Root {len(_KEYS)}", Role.ADMIN)
        _KEYS[id(hotline)] = admin.api_key
    shown = await client.get(
        "/api/appointments", headers={"Authorization": f"Bearer {_KEYS[id(hotline)]}"}
    )
    assert shown.status == 200, await shown.text()
    [found] = [a for a in (await shown.json())["items"] if a["id"] == appointment]
    return str(found["state"])


async def attempts(hotline: Hotline, appointment: int) -> list[tuple[str, str | None]]:
    """(expert, outcome) of every attempt of the appointment's call, in order."""
    async with hotline.require_sessions()() as session:
        rows = await session.execute(
            select(ATTEMPTS.c.expert, ATTEMPTS.c.outcome)
            .join(CALLBACKS, CALLBACKS.c.id == ATTEMPTS.c.callback_id)
            .where(CALLBACKS.c.appointment_id == appointment)
            .order_by(ATTEMPTS.c.id)
        )
        return [(row.expert, row.outcome) for row in rows]


async def refunds(hotline: Hotline, incident: int) -> int:
    async with hotline.require_sessions()() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Movement)
            .where(Movement.incident_id == incident, Movement.kind == "refund")
        )
    return int(count or 0)


async def settle(hotline: Hotline, appointment: int, count: int) -> list[tuple[str, str | None]]:
    """Wait until the call has `count` attempts, all with an outcome."""
    async with asyncio.timeout(LIMIT):
        while True:
            seen = await attempts(hotline, appointment)
            if len(seen) >= count and all(outcome for _, outcome in seen):
                return seen
            await asyncio.sleep(0.02)


def at_slot(hotline: Hotline, clock: FakeClock, after_start: timedelta) -> None:
    """The hotline's clock moves to the slot (+ `after_start`); the dispatcher looks."""
    clock.set(SLOT + after_start)
    assert hotline.callbacks is not None
    hotline.callbacks.wake()


async def test_a_slot_is_dialled_at_its_start_and_met(tmp_path: Path) -> None:
    clock = FakeClock(BOOKED_AT)
    async with (
        simulator() as sim,
        hotline_on(sim.port, tmp_path / "rdv.db", clock) as (hotline, client),
    ):
        view = await book(hotline)
        at_slot(hotline, clock, -timedelta(seconds=30))
        await asyncio.sleep(0.2)
        assert await attempts(hotline, view.id) == []  # not before the slot
        at_slot(hotline, clock, timedelta(0))
        assert await settle(hotline, view.id, 1) == [("Chloé Bernard", "connected")]
        assert await state(client, hotline, view.id) == "met"
        assert await refunds(hotline, view.incident_id) == 0
        bridged = [c for c in sim.model.channels.values() if c.bridge_id]
        assert len(bridged) == 2


async def test_the_reserved_expert_not_answering_another_expert_meets_it(tmp_path: Path) -> None:
    clock = FakeClock(BOOKED_AT)
    async with (
        simulator(("agents", r"agent3", "never")) as sim,
        hotline_on(sim.port, tmp_path / "rdv.db", clock) as (hotline, client),
    ):
        view = await book(hotline)
        at_slot(hotline, clock, timedelta(minutes=1))
        assert await settle(hotline, view.id, 2) == [
            ("Chloé Bernard", "expert-no-answer"),
            ("David Moreau", "connected"),
        ]
        assert await state(client, hotline, view.id) == "met"
        assert await refunds(hotline, view.incident_id) == 0


async def test_nobody_answering_breaks_it_at_15_minutes_refunded_once(tmp_path: Path) -> None:
    clock = FakeClock(BOOKED_AT)
    async with (
        simulator() as sim,
        hotline_on(sim.port, tmp_path / "rdv.db", clock) as (hotline, client),
    ):
        view = await book(hotline, number="0699000001")
        at_slot(hotline, clock, timedelta(0))
        await settle(hotline, view.id, 1)
        at_slot(hotline, clock, timedelta(minutes=4, seconds=59))
        await asyncio.sleep(0.2)
        assert len(await attempts(hotline, view.id)) == 1  # retried after 5 minutes only
        at_slot(hotline, clock, timedelta(minutes=5))
        await settle(hotline, view.id, 2)
        at_slot(hotline, clock, timedelta(minutes=10))
        await settle(hotline, view.id, 3)
        assert await state(client, hotline, view.id) == "dialling"
        at_slot(hotline, clock, timedelta(minutes=15))
        await until_state(client, hotline, view.id, "broken")
        await settle(hotline, view.id, 4)  # the retry due at +10 min, dialled at +15
        # The call goes on after the breach, and the refund stays one.
        at_slot(hotline, clock, timedelta(minutes=20))
        seen = await settle(hotline, view.id, 5)
        assert {outcome for _, outcome in seen} == {"customer-no-answer"}
        assert all(expert == "Chloé Bernard" for expert, _ in seen)
        assert await refunds(hotline, view.incident_id) == 1
        assert await state(client, hotline, view.id) == "broken"


async def until_state(
    client: TestClient[object, object], hotline: Hotline, appointment: int, wanted: str
) -> None:
    async with asyncio.timeout(LIMIT):
        while await state(client, hotline, appointment) != wanted:
            await asyncio.sleep(0.05)


async def test_stopped_across_the_slot_start_and_restarted_inside_15_minutes_dials_once(
    tmp_path: Path,
) -> None:
    clock = FakeClock(BOOKED_AT)
    database = tmp_path / "rdv.db"
    async with simulator() as sim:
        # Between the hotline and the PBX: counts the Originates the PBX received.
        proxy = Proxy(sim.port)
        await proxy.start()
        try:
            async with hotline_on(proxy.port, database, clock) as (hotline, _):
                view = await book(hotline)
            clock.set(SLOT + timedelta(minutes=3))  # the slot started while it was stopped
            async with hotline_on(proxy.port, database, clock) as (hotline, client):
                assert await settle(hotline, view.id, 1) == [("Chloé Bernard", "connected")]
                assert await state(client, hotline, view.id) == "met"
                assert hotline.callbacks is not None
                hotline.callbacks.wake()
                await asyncio.sleep(0.2)
                assert len(await attempts(hotline, view.id)) == 1
            assert proxy.originates == 1
        finally:
            await proxy.stop()
