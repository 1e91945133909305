"""The demo opens the console: a demo supervisor whose fresh key signs in."""

from __future__ import annotations

from datetime import datetime

import aiohttp
from aiohttp import web

from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.pbxsim import SimulatorSettings
from callrouter.server.demo import DEMO_SUPERVISOR, SCREEN_FOOTER, build_demo_app
from callrouter.server.hotline import Hotline, PBXLink

from .conftest import PARIS


async def start_demo(sqlite_url: str) -> tuple[web.AppRunner, web.Application, str]:
    settings = SimulatorSettings(port=0, secret="demo-console", login_failure_delay=0.0)
    hotline = Hotline(
        config=Config(),
        database_url=sqlite_url,
        pbx=PBXLink("127.0.0.1", 0, "callrouter", "demo-console"),
        clock=FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)),
    )
    app = build_demo_app(
        hotline, settings, 0.01, interactive=False, screen=False, console_url="http://x/console/"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, app, f"http://127.0.0.1:{port}"


async def test_the_demo_prints_the_console_and_a_supervisor_key_that_signs_in(
    sqlite_url: str,
) -> None:
    keys = []
    for _ in range(2):  # a second run revokes the first run's key and issues another
        runner, app, base = await start_demo(sqlite_url)
        try:
            [hint] = app[SCREEN_FOOTER]
            assert hint.startswith("Console: http://x/console/")
            key = hint.split("API key ", 1)[1].rstrip(")")
            keys.append(key)
            jar = aiohttp.CookieJar(unsafe=True)
            async with (
                aiohttp.ClientSession(cookie_jar=jar) as http,
                http.post(
                    base + "/console/sign-in",
                    data={"name": DEMO_SUPERVISOR, "api_key": key},
                    allow_redirects=False,
                ) as response,
            ):
                assert response.status == 303
        finally:
            await runner.cleanup()
    assert keys[0] != keys[1]
