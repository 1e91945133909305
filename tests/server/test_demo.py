"""`callrouter demo`: seeded customers call, get routed, answered and abandoned."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from callrouter.accounts.operators import OperatorService
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.http.access import Role
from callrouter.pbxsim import SimulatorSettings
from callrouter.server.demo import DEMO_CUSTOMERS, build_demo_app, default_demo_start
from callrouter.server.hotline import Hotline, PBXLink

PARIS = ZoneInfo("Europe/Paris")


async def test_the_demo_shows_calls_routed_answered_and_abandoned(sqlite_url: str) -> None:
    settings = SimulatorSettings(
        port=0,
        secret="demo-test",
        seed=3,
        time_scale=0.01,
        login_failure_delay=0.0,
        answer_delay=(1.0, 2.0),
        # Long enough that the four coordinators are all busy and callers abandon: the
        # queue used to fill up with callers the fail-safe queued while their message's
        # record waited for a SQLite commit; now it is journaled, they hear the message.
        talk_time=(20.0, 60.0),
        patience=(10.0, 30.0),
    )
    hotline = Hotline(
        config=Config(),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", 0, "callrouter", "demo-test"),
        clock=FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)),
    )
    # 0.2 calls per model second, model time 100x faster: a busy hotline in a few seconds.
    # (Two per model second, 200 calls/s, outran SQLite on a loaded machine: the router's
    # lookups and the call records waited over 30 s for a connection, /api/calls failed.)
    app = build_demo_app(hotline, settings, 0.2, interactive=False, screen=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    snapshots: list[dict[str, dict[str, int]]] = []
    decisions: set[tuple[str, str]] = set()
    known = {c.caller_id for c in DEMO_CUSTOMERS}
    # The supervision routes need staff credentials; an admin sees callers' numbers whole.
    admin = await OperatorService(hotline.require_sessions(), hotline.clock).create(
        "Demo Admin", Role.ADMIN
    )
    headers = {"Authorization": f"Bearer {admin.api_key}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:

            async def poll() -> None:
                # Decisions are gathered while watching: served customers stay away (issue
                # 10, item 5), so a late look back may find only unknown numbers redialling.
                async with http.get(f"http://127.0.0.1:{port}/api/calls?recent=200") as response:
                    calls = await response.json()
                decisions.update((d["caller_id"], d["target"]) for d in calls["recent_decisions"])
                async with http.get(f"http://127.0.0.1:{port}/api/queues") as response:
                    body = await response.json()
                snapshots.append(
                    {
                        q["name"]: {
                            "waiting": q["waiting"],
                            "completed": q["completed"],
                            "abandoned": q["abandoned"],
                        }
                        for q in body["queues"]
                    }
                )

            def distinct_coordinators() -> set[tuple[tuple[str, int], ...]]:
                return {tuple(sorted(s["coordinators"].items())) for s in snapshots if s}

            async def busy_enough() -> None:
                while True:
                    await poll()
                    coordinators = snapshots[-1].get("coordinators", {})
                    # Two states at least: on a loaded machine the first poll can already
                    # show calls completed and abandoned.
                    if (
                        coordinators.get("completed", 0)
                        and coordinators.get("abandoned", 0)
                        and len(distinct_coordinators()) > 1
                    ):
                        return
                    await asyncio.sleep(0.05)

            async with asyncio.timeout(20):
                await busy_enough()
                while not known & {caller for caller, _ in decisions}:
                    await poll()
                    await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()

    # The queue state changed while we watched: callers came and went.
    assert len(distinct_coordinators()) > 1
    targets = {target for _, target in decisions}
    assert "coordinators-queue" in targets
    # Unknown callers (the simulator's share) and the demo's wrong-PIN caller are refused.
    assert targets & {"refusal-message", "pin-retry"}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 25), date(2026, 11, 25)),  # a Wednesday: today
        (date(2026, 11, 29), date(2026, 11, 27)),  # a Sunday: Friday
        (date(2026, 12, 25), date(2026, 12, 24)),  # Christmas, a Friday: the day before
        (date(2026, 4, 6), date(2026, 4, 3)),  # Easter Monday: the Friday before
    ],
)
def test_the_demo_starts_at_1750_on_the_latest_working_day(today: date, expected: date) -> None:
    now = datetime(today.year, today.month, today.day, 22, 0, tzinfo=PARIS)
    start = default_demo_start(now, HotlineCalendar.default().coordinators)
    assert start == datetime(expected.year, expected.month, expected.day, 17, 50, tzinfo=PARIS)
