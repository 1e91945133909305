"""End to end over real TCP: the running hotline (database, dispatcher, AMI placer) and the
PBX simulator. A Pass 4H incident opened by a coordinator is called back: the expert of its
domain is dialled, then the customer, the two are bridged and the callback is met."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from callrouter.accounts.operators import OperatorService
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.http.access import Role
from callrouter.pbxsim import PBXSimulator, SimulatorSettings
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
SECRET = "s3cret-for-tests"
LIMIT = 20.0


async def test_a_callback_due_is_dialled_and_met(tmp_path: Path) -> None:
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
        )
    )
    await sim.start()
    clock = FakeClock(TUESDAY_10H)
    hotline = Hotline(
        config=Config(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        pbx=PBXLink("127.0.0.1", sim.port, "callrouter", SECRET),
        clock=clock,
        callback_placer=lambda client, on_result: AMIPlacer(client, on_result, clock=clock),
    )
    client = TestClient(TestServer(build_app(hotline)))
    await client.start_server()
    try:
        async with asyncio.timeout(LIMIT):
            while not (hotline.ami is not None and hotline.ami.connected):
                await asyncio.sleep(0.01)
        assert hotline.experts is not None and hotline.identity is not None
        assert hotline.ledger is not None
        # Chloé Bernard is a member of the simulator's experts queue.
        await hotline.experts.add("Chloé Bernard", "Local/agent3@agents", ["knx"])
        account = await hotline.identity.create_account("Durand SA", pin="903114")
        await hotline.ledger.credit(account.number, 500, reason="test", idempotency_key="t:1")
        operator = await OperatorService(hotline.require_sessions(), clock).create(
            "Alice", Role.COORDINATOR
        )
        coordinator = {"Authorization": f"Bearer {operator.api_key}"}
        opened = await client.post(
            "/api/incidents",
            headers=coordinator,
            json={
                "account_number": account.number,
                "level": "standard",
                "pass": "4h",
                "domain": "knx",
                "callback_number": "0612345678",
                "idempotency_key": "i:1",
            },
        )
        assert opened.status == 201, await opened.text()
        callback_id = (await opened.json())["callback"]["id"]
        admin = await OperatorService(hotline.require_sessions(), clock).create("Root", Role.ADMIN)
        async with asyncio.timeout(LIMIT):
            while True:
                shown = await client.get(
                    f"/api/callbacks/{callback_id}",
                    headers={"Authorization": f"Bearer {admin.api_key}"},
                )
                callback = await shown.json()
                if callback["standing"] == "met":
                    break
                await asyncio.sleep(0.05)
    finally:
        await client.close()
        await sim.stop()

    assert (callback["close_reason"], callback["breached_at"]) == ("met", None)
    [attempt] = callback["attempts"]  # dialled once
    assert (attempt["expert"], attempt["outcome"]) == ("Chloé Bernard", "connected")
    # The clock is held still: every leg is stamped at 10:00, and each one was seen.
    for leg in ("placed_at", "expert_answered_at", "customer_answered_at", "connected_at"):
        assert attempt[leg] == "2026-11-24T10:00:00+01:00", leg
    assert callback["connected_at"] == attempt["connected_at"]
