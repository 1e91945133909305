"""The whole hotline over real TCP: PBX simulator, AMI link, router, database, HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from callrouter.accounts.operators import OperatorService
from callrouter.calls.journal import JournalError
from callrouter.clock import FakeClock
from callrouter.config import Config, DatabaseConfig
from callrouter.http.access import Role
from callrouter.live.state import LiveState
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

from ..support.waits import until

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
SECRET = "s3cret-for-tests"


def simulator_settings(port: int = 0) -> SimulatorSettings:
    # Model time runs 50x faster than real time; agents never answer during a test unless
    # told to, so callers stay visible in the queues.
    return SimulatorSettings(
        port=port,
        username="callrouter",
        secret=SECRET,
        router_wait=5.0,
        time_scale=0.02,
        login_failure_delay=0.0,
        answer_delay=(1000.0, 1000.0),
        patience=(10_000.0, 10_000.0),
        seed=7,
    )


@dataclass
class Running:
    hotline: Hotline
    simulator: PBXSimulator
    base_url: str
    http: aiohttp.ClientSession

    @property
    def live(self) -> LiveState:
        assert self.hotline.live is not None
        return self.hotline.live

    async def get(self, path: str) -> Any:
        async with self.http.get(self.base_url + path) as response:
            return response.status, await response.json()


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[Running]:
    simulator = PBXSimulator(simulator_settings())
    await simulator.start()
    hotline = Hotline(
        config=Config(),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", simulator.port, "callrouter", SECRET),
        clock=FakeClock(TUESDAY_10H),
    )
    app = build_app(hotline)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # The supervision routes need staff credentials; an admin sees callers' numbers whole.
    admin = await OperatorService(hotline.require_sessions(), hotline.clock).create(
        "Test Admin", Role.ADMIN
    )
    headers = {"Authorization": f"Bearer {admin.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        running = Running(hotline, simulator, f"http://127.0.0.1:{port}", http)
        await until(lambda: hotline.ami is not None and hotline.ami.connected, "PBX link up")
        try:
            yield running
        finally:
            await runner.cleanup()
            await running.simulator.stop()


async def new_customer(running: Running, caller_id: str, points: int) -> str:
    assert running.hotline.identity is not None and running.hotline.ledger is not None
    account = await running.hotline.identity.create_account("Claire Lefèvre", pin="903114")
    await running.hotline.identity.add_beneficiary(account.number, "Claire Lefèvre", caller_id)
    await running.hotline.ledger.credit(
        account.number, points, reason="test", idempotency_key=f"test:{account.number}"
    )
    return account.number


def waiting_in(running: Running, queue: str) -> list[tuple[str, int | None]]:
    view = running.live.queue(queue)
    return [] if view is None else [(c.caller_id, c.priority) for c in view.callers]


async def test_a_call_is_routed_by_pass_and_shows_in_the_live_api(running: Running) -> None:
    await new_customer(running, "0611111111", 500)
    await new_customer(running, "0622222222", 500)
    running.simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="1"))
    await until(lambda: len(waiting_in(running, "coordinators")) == 1, "Anne waits")
    running.simulator.place_call(CallerProfile("0622222222", "Bernard", pass_digit="3"))
    await until(lambda: len(waiting_in(running, "coordinators")) == 2, "Bernard waits")

    # The Prioritaire caller came second and is served first.
    assert waiting_in(running, "coordinators") == [("0622222222", 10), ("0611111111", 0)]
    pbx_order = [
        c["caller_id"] for c in running.simulator.snapshot()["queues"]["coordinators"]["callers"]
    ]
    assert pbx_order == ["0622222222", "0611111111"]

    status, body = await running.get("/api/queues")
    assert status == 200
    coordinators = next(q for q in body["queues"] if q["name"] == "coordinators")
    assert [c["caller_id"] for c in coordinators["callers"]] == ["0622222222", "0611111111"]

    await running.hotline.router.wait_idle()  # type: ignore[union-attr]
    status, body = await running.get("/api/calls?recent=10")
    assert status == 200
    decisions = {d["caller_id"]: d for d in body["recent_decisions"]}
    assert decisions["0622222222"]["queue_priority"] == 10
    assert decisions["0611111111"]["target"] == "coordinators-queue"
    assert {call["caller_id"] for call in body["live"]} >= {"0611111111", "0622222222"}


async def test_unknown_caller_hears_the_refusal_and_leaves(running: Running) -> None:
    channel = running.simulator.place_call(CallerProfile("0799999999", "Inconnu", pass_digit="1"))
    await until(lambda: channel not in running.simulator.snapshot()["channels"], "caller gone")
    await running.hotline.router.wait_idle()  # type: ignore[union-attr]
    _, body = await running.get("/api/calls?recent=5")
    assert body["recent_decisions"][0]["target"] == "refusal-message"
    assert waiting_in(running, "coordinators") == []


async def test_bad_query_gets_a_json_error(running: Running) -> None:
    status, body = await running.get("/api/calls?recent=-1")
    assert status == 400
    assert body["error"]["field"] == "recent"


async def test_router_reconnects_after_the_pbx_restarts_and_rebuilds_its_view(
    running: Running,
) -> None:
    await new_customer(running, "0611111111", 500)
    running.simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="3"))
    await until(lambda: len(waiting_in(running, "coordinators")) == 1, "Anne waits")
    port = running.simulator.port
    ami = running.hotline.ami
    assert ami is not None

    await running.simulator.stop()
    await until(lambda: not ami.connected, "link seen down")
    status, body = await running.get("/health")
    assert (status, body["ami"]) == (503, "down")

    # A new PBX on the same port, with calls the router never heard of: with the router
    # away, the dialplan's fail-safe queues them to the coordinators by itself.
    restarted = PBXSimulator(simulator_settings(port))
    await restarted.start()
    running.simulator = restarted
    restarted.place_call(CallerProfile("0633333333", "Chloé"))
    restarted.place_call(CallerProfile("0644444444", "David"))
    await until(lambda: ami.connected, "link back up", limit=20.0)

    def pbx_queue() -> list[str]:
        return [c["caller_id"] for c in restarted.snapshot()["queues"]["coordinators"]["callers"]]

    await until(lambda: len(pbx_queue()) == 2, "fail-safe queued both callers")
    await until(
        lambda: [caller for caller, _ in waiting_in(running, "coordinators")] == pbx_queue(),
        "live view matches the PBX",
    )
    # Anne's call died with the old PBX: the rebuilt view does not remember it.
    assert "0611111111" not in [caller for caller, _ in waiting_in(running, "coordinators")]
    status, _ = await running.get("/health")
    assert status == 200


async def test_a_journal_folder_it_cannot_write_stops_the_start_with_a_clear_message(
    sqlite_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    hotline = Hotline(
        config=Config(database=DatabaseConfig(journal_dir=str(blocker))),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", 1, "callrouter", SECRET),
        clock=FakeClock(TUESDAY_10H),
    )
    runner = web.AppRunner(build_app(hotline))
    try:
        with pytest.raises(JournalError, match=r"a-file/callrouter\.db: cannot write there"):
            await runner.setup()
    finally:
        await runner.cleanup()
