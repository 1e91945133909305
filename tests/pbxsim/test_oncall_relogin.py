"""The running hotline over real TCP with the simulator: the on-call queue gets the
roster's team with their penalties at start-up, and again from a PBX that restarted empty
(after every AMI login), without callrouter restarting (issue 10, item 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aiohttp import web

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.db.engine import create_engine, session_factory
from callrouter.oncall.roster import Layer
from callrouter.oncall.service import RosterService
from callrouter.pbxsim import PBXSimulator, SimulatorSettings
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
MONDAY = date(2026, 11, 23)
WINDOW = HotlineCalendar.default().on_call
SECRET = "s3cret-for-tests"


def settings(port: int = 0) -> SimulatorSettings:
    return SimulatorSettings(
        port=port,
        username="callrouter",
        secret=SECRET,
        time_scale=0.02,
        login_failure_delay=0.0,
        seed=5,
        queues={"coordinators": [], "experts": [], "oncall": []},
    )


async def until(condition: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


def oncall_members(simulator: PBXSimulator) -> dict[str, int]:
    queue = simulator.model.queues["oncall"]
    return {member.interface: member.penalty for member in queue.members}


TEAM = {
    "Local/0611111111@oncall-technician": 0,
    "Local/pjsip-bruno@oncall-technician": 1,
    "Local/0633333333@oncall-technician": 2,
}


async def seed_roster(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        roster = RosterService(session_factory(engine), FakeClock(TUESDAY_NIGHT), WINDOW)
        for name, contact in (
            ("Alice", "0611111111"),
            ("Bruno", "PJSIP/bruno"),
            ("Manon", "0633333333"),
        ):
            await roster.add_person(name, contact)
        for layer, person in (
            (Layer.PRIMARY, "Alice"),
            (Layer.SECONDARY, "Bruno"),
            (Layer.MANAGER, "Manon"),
        ):
            await roster.set_rotation(
                layer, [person], shift_days=7, handoff_at=time(8), first_handoff=MONDAY
            )
    finally:
        await engine.dispose()


async def test_the_team_is_programmed_at_start_and_after_the_pbx_restarts(
    sqlite_url: str,
) -> None:
    await seed_roster(sqlite_url)
    simulator = PBXSimulator(settings())
    await simulator.start()
    hotline = Hotline(
        config=Config(),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", simulator.port, "callrouter", SECRET),
        clock=FakeClock(TUESDAY_NIGHT),
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    try:
        ami = hotline.ami
        assert ami is not None
        await until(lambda: oncall_members(simulator) == TEAM, "members set at start-up")
        port = simulator.port
        await simulator.stop()
        await until(lambda: not ami.connected, "link seen down")

        simulator = PBXSimulator(settings(port))
        await simulator.start()
        await until(lambda: oncall_members(simulator) == TEAM, "members set after the login")
    finally:
        await runner.cleanup()
        await simulator.stop()
