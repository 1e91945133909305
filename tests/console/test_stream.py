"""The stream over a running hotline, without a browser: a call is pushed within a second,
a pause shows with its reason and since when."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from callrouter.console.panel import PanelView
from callrouter.http.access import Role, visibility
from callrouter.pbxsim import CallerProfile

from .conftest import PARIS, RunningConsole, until


async def events(http: aiohttp.ClientSession, url: str) -> AsyncIterator[tuple[str, Any]]:
    async with http.get(url) as response:
        assert response.status == 200
        kind = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                yield kind, json.loads(line.partition(":")[2])


async def signed_in(running: RunningConsole) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(
        running.base_url + "/console/sign-in",
        data={"name": running.names[Role.SUPERVISOR], "api_key": running.keys[Role.SUPERVISOR]},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    return http


def coordinators(panels: dict[str, Any]) -> dict[str, Any]:
    return next(q for q in panels["queues"]["queues"] if q["name"] == "coordinators")


async def test_a_call_is_pushed_within_a_second_of_being_placed(
    running_console: RunningConsole,
) -> None:
    await running_console.new_customer("0611111111")
    http = await signed_in(running_console)
    try:
        stream = events(http, running_console.base_url + "/console/stream")
        kind, first = await anext(stream)
        assert kind == "snapshot"
        assert coordinators(first["panels"])["callers"] == []
        placed = time.monotonic()
        running_console.simulator.place_call(CallerProfile("0611111111", "C", pass_digit="1"))
        async with asyncio.timeout(1.0):
            async for pushed, body in stream:
                queues = body["panels"].get("queues")
                if queues and coordinators(body["panels"])["callers"]:
                    assert pushed == "delta"
                    break
        [caller] = coordinators(body["panels"])["callers"]
        assert caller["who"] == "06 •• •• •1 11" and caller["pass"] == "4h"
        assert caller["since"].endswith("+01:00")
        print(f"pushed {1000 * (time.monotonic() - placed):.0f} ms after the call was placed")
        await stream.aclose()
    finally:
        await http.close()


async def test_a_paused_agent_shows_the_reason_and_since_when(
    running_console: RunningConsole,
) -> None:
    console = running_console.hotline.console
    assert console is not None
    panel = next(p for p in console.hub.panels if p.key == "queues")
    running_console.simulator.model.queue_pause(
        "Local/agent1@agents", True, "coordinators", "déjeuner"
    )

    def member() -> dict[str, Any]:
        view = PanelView(console.clock.now(), PARIS, visibility(Role.SUPERVISOR))
        queue = next(q for q in panel.snapshot(view)["queues"] if q["name"] == "coordinators")
        return next(m for m in queue["members"] if m["name"] == "Alice Martin")

    await until(lambda: member()["status"] == "paused", "Alice is paused")
    paused = member()
    assert paused["paused_reason"] == "déjeuner" and paused["paused_since"] is not None
    running_console.simulator.model.queue_pause("Local/agent1@agents", False, "coordinators")
    await until(lambda: member()["status"] == "free", "Alice is back")
    assert member()["paused_since"] is None
