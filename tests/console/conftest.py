"""A running hotline (PBX simulator, AMI link, router, database, HTTP) with staff of each
role, for the console's page, stream and browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from callrouter.accounts.operators import OperatorService
from callrouter.clock import Clock, SimulatedClock
from callrouter.config import Config
from callrouter.http.access import Role
from callrouter.pbxsim import PBXSimulator, SimulatorSettings
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

from ..support.waits import until

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
SECRET = "s3cret-for-console-tests"


def simulator_settings(port: int = 0) -> SimulatorSettings:
    # Model time 50x faster than real time; an agent answers 3 real seconds after being
    # rung (time to see the wait tick) and then talks for good.
    return SimulatorSettings(
        port=port,
        username="callrouter",
        secret=SECRET,
        router_wait=5.0,
        time_scale=0.02,
        login_failure_delay=0.0,
        answer_delay=(150.0, 150.0),
        ring_timeout=1000.0,
        talk_time=(100_000.0, 100_000.0),
        patience=(100_000.0, 100_000.0),
        seed=11,
    )


@dataclass
class RunningConsole:
    hotline: Hotline
    simulator: PBXSimulator
    base_url: str
    keys: dict[Role, str] = field(default_factory=dict)
    names: dict[Role, str] = field(default_factory=dict)
    runner: web.AppRunner | None = None

    async def restart_pbx(self) -> None:
        """Stop the PBX and start a new one on the same port: the AMI link drops and comes
        back by itself."""
        port = self.simulator.port
        await self.simulator.stop()
        self.simulator = PBXSimulator(simulator_settings(port))
        await self.simulator.start()

    async def new_customer(self, caller_id: str, name: str = "Claire Lefèvre") -> None:
        identity, ledger = self.hotline.identity, self.hotline.ledger
        assert identity is not None and ledger is not None
        account = await identity.create_account(name, pin="903114")
        await identity.add_beneficiary(account.number, name, caller_id)
        await ledger.credit(account.number, 500, reason="test", idempotency_key=f"t:{caller_id}")


async def start_console(sqlite_url: str, clock: Clock, config: Config) -> RunningConsole:
    simulator = PBXSimulator(simulator_settings())
    await simulator.start()
    hotline = Hotline(
        config=config,
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", simulator.port, "callrouter", SECRET),
        clock=clock,
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    running = RunningConsole(hotline, simulator, f"http://127.0.0.1:{port}", runner=runner)
    operators = OperatorService(hotline.require_sessions(), clock)
    for role, name in (
        (Role.SUPERVISOR, "Sam Superviseur"),
        (Role.ADMIN, "Ada Admin"),
        (Role.COORDINATOR, "Alice Martin"),
    ):
        running.keys[role] = (await operators.create(name, role)).api_key
        running.names[role] = name
    await until(lambda: hotline.ami is not None and hotline.ami.connected, "PBX link up")
    return running


@pytest.fixture
async def running_console(sqlite_url: str) -> AsyncIterator[RunningConsole]:
    running = await start_console(sqlite_url, SimulatedClock(TUESDAY_10H), Config())
    try:
        yield running
    finally:
        assert running.runner is not None
        await running.runner.cleanup()
        await running.simulator.stop()
