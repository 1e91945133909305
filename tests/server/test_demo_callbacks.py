"""The demo's Pass 4H story: coordinators open callbacks for answered callers, experts call
back through the simulated PBX and meet them; an afternoon callback whose expert is away is
breached at its deadline, refunded once, then called back late; the screen says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select

from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.queries import CallbackQueries, CallbackView
from callrouter.callbacks.rules import Standing
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.ledger.tables import MOVEMENTS
from callrouter.pbxsim import SimulatorSettings
from callrouter.server.demo import DEMO_QUEUES, build_demo_app, callback_lines
from callrouter.server.demo_callbacks import AFTERNOON_CALLBACKS, AWAY_UNTIL
from callrouter.server.hotline import ENGINE, Hotline, PBXLink

from ..support.waits import until_async

PARIS = ZoneInfo("Europe/Paris")
#: The demo's default start: 17:50 on a working day (a Tuesday).
START = datetime(2026, 11, 24, 17, 50, tzinfo=PARIS)
HVAC, KNX = AFTERNOON_CALLBACKS


async def test_the_demo_meets_callbacks_and_refunds_a_breached_one_once(sqlite_url: str) -> None:
    clock = FakeClock(START)
    settings = SimulatorSettings(
        port=0,
        secret="demo-4h",
        seed=5,
        time_scale=0.02,
        # The router answers before the fail-safe on a loaded machine too (1 s of real time).
        router_wait=50.0,
        login_failure_delay=0.0,
        answer_delay=(1.0, 2.0),
        talk_time=(5.0, 10.0),
        patience=(60.0, 120.0),
        queues=DEMO_QUEUES,
    )
    hotline = Hotline(
        config=Config(),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", 0, "callrouter", "demo-4h"),
        clock=clock,
        # As `callrouter demo` has it: callbacks are dialled through the simulated PBX.
        callback_placer=lambda client, on_result: AMIPlacer(client, on_result, clock=clock),
    )
    app = build_demo_app(hotline, settings, 0.2, interactive=False, screen=False, start=START)
    runner = web.AppRunner(app)
    await runner.setup()
    queries = CallbackQueries(app[ENGINE], clock, hotline.config.callbacks.policy)

    async def callbacks() -> list[CallbackView]:
        return await queries.page(limit=100)

    def afternoon(views: list[CallbackView], domain: str) -> CallbackView:
        [view] = [v for v in views if v.opened_at < START and v.domain == domain]
        return view

    async def refunds(incident_id: int) -> int:
        async with hotline.require_sessions()() as session:
            count: int = (
                await session.execute(
                    select(func.count()).where(
                        MOVEMENTS.c.incident_id == incident_id, MOVEMENTS.c.kind == "refund"
                    )
                )
            ).scalar_one()
        return count

    try:
        # The afternoon's callbacks are seeded at once: the hvac one at risk, counting down.
        at_start = await callback_lines(hotline, queries)
        hvac = afternoon(await callbacks(), "hvac")
        assert hvac.due_at == START + HVAC.due_in
        [hvac_line] = [line for line in at_start if f"#{hvac.id} " in line]
        assert "04 •• •• •0 01" in hvac_line and "hvac" in hvac_line
        assert "due Tue 17:56  in 06m00s" in hvac_line and "AT RISK" in hvac_line

        async def live_and_afternoon_met() -> bool:
            views = await callbacks()
            live = [v for v in views if v.opened_at == START]
            return any(v.standing is Standing.MET for v in live) and (
                afternoon(views, "knx").standing is Standing.MET
            )

        # Coordinators answer Pass 4H callers and open incidents; experts call back.
        await until_async(live_and_afternoon_met, "a live callback and the knx one met")
        views = await callbacks()
        live = [v for v in views if v.opened_at == START]
        # Opened at 17:50, due after four business hours: 11:50 the next morning.
        assert all(v.due_at == START + timedelta(hours=18) for v in live)
        assert afternoon(views, "hvac").standing is Standing.AT_RISK

        # The hvac deadline passes with its only expert away: breached, refunded once.
        clock.set(START + HVAC.due_in + timedelta(seconds=1))
        assert hotline.callbacks is not None
        hotline.callbacks.wake()

        async def hvac_breached() -> bool:
            return afternoon(await callbacks(), "hvac").breached_at is not None

        await until_async(hvac_breached, "the hvac callback breached")
        assert await refunds(hvac.incident_id) == 1
        breached_lines = await callback_lines(hotline, queries)

        # The expert is back: the customer is called back late; no second refund.
        clock.set(START + AWAY_UNTIL + timedelta(seconds=1))
        hotline.callbacks.wake()

        async def hvac_connected() -> bool:
            return afternoon(await callbacks(), "hvac").connected_at is not None

        await until_async(hvac_connected, "the hvac customer called back late")
        assert await refunds(hvac.incident_id) == 1
        late_lines = await callback_lines(hotline, queries)
    finally:
        await runner.cleanup()

    knx = afternoon(views, "knx")
    [knx_line] = [line for line in breached_lines if f"#{knx.id} " in line]
    assert "knx" in knx_line and "due Tue 17:58" in knx_line
    assert "met: connected 17:50:00, 08m00s to spare" in knx_line
    [met_line] = [
        line
        for line in breached_lines
        for view in live
        if view.standing is Standing.MET and f"#{view.id} " in line
    ][:1]
    assert "due Wed 11:50" in met_line and "met: connected 17:50:00" in met_line
    [hvac_line] = [line for line in breached_lines if f"#{hvac.id} " in line]
    assert "breached: refunded 17:56:01; still to be called back" in hvac_line
    [hvac_line] = [line for line in late_lines if f"#{hvac.id} " in line]
    assert "breached: refunded 17:56:01; connected late 17:58:01" in hvac_line
    assert at_start[0] == "Pass 4H callbacks (an expert calls back within 4 business hours):"
