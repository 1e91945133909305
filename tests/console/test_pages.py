"""Signing in and out of the console, and who gets the page and the stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from callrouter.accounts.operators import OperatorService
from callrouter.clock import FakeClock
from callrouter.console.pages import COOKIE
from callrouter.console.sessions import SessionStore
from callrouter.http.access import Role

from .conftest import TUESDAY_10H, RunningConsole


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe: keep cookies for an IP address host (127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def sign_in(
    running: RunningConsole, http: aiohttp.ClientSession, role: Role, **headers: str
) -> aiohttp.ClientResponse:
    async with http.post(
        running.base_url + "/console/sign-in",
        data={"name": running.names[role], "api_key": running.keys[role]},
        headers=headers,
        allow_redirects=False,
    ) as response:
        await response.read()
        return response


async def first_event(http: aiohttp.ClientSession, url: str) -> tuple[str, dict[str, object]]:
    async with http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        kind, data = "", ""
        async for raw in response.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = line.partition(":")[2].strip()
            elif not line and data:
                return kind, json.loads(data)
    raise AssertionError("the stream ended without an event")


async def test_signed_out_the_page_sends_to_sign_in_and_the_stream_refuses(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    base = running_console.base_url
    async with browser.get(base + "/console/", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/sign-in"
    async with browser.get(base + "/console/stream") as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_supervisor_signs_in_gets_the_page_and_a_masked_snapshot(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    response = await sign_in(running_console, browser, Role.SUPERVISOR)
    assert response.status == 303
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/console"
    assert not cookie["secure"]
    base = running_console.base_url
    async with browser.get(base + "/console/", headers={"Accept-Language": "en"}) as page:
        assert page.status == 200
        html = await page.text()
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "Sam Superviseur" in html and 'lang="en"' in html
    assert "/console/static/panels/queues.js" in html
    kind, body = await first_event(browser, base + "/console/stream")
    assert kind == "snapshot"
    panels = body["panels"]
    assert isinstance(panels, dict)
    assert set(panels) >= {"queues", "figures", "history", "decisions", "link", "alerts"}
    assert panels["link"]["up"] is True


async def test_french_is_the_default_and_a_language_can_be_chosen(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    await sign_in(running_console, browser, Role.SUPERVISOR)
    base = running_console.base_url
    async with browser.get(base + "/console/") as page:
        assert "Files d'attente" in await page.text()
    async with browser.get(base + "/console/?lang=en") as page:
        assert "Queues" in await page.text()
    # The choice is remembered.
    async with browser.get(base + "/console/", headers={"Accept-Language": "fr"}) as page:
        assert 'lang="en"' in await page.text()


async def test_coordinators_and_wrong_keys_do_not_get_the_console(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    response = await sign_in(running_console, browser, Role.COORDINATOR)
    assert response.status == 403
    assert COOKIE not in response.cookies
    async with browser.post(
        running_console.base_url + "/console/sign-in",
        data={"name": "Sam Superviseur", "api_key": running_console.keys[Role.ADMIN]},
        allow_redirects=False,
    ) as wrong_name:
        assert wrong_name.status == 401
        assert COOKIE not in wrong_name.cookies


async def test_an_admin_gets_the_console_too(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    assert (await sign_in(running_console, browser, Role.ADMIN)).status == 303
    async with browser.get(running_console.base_url + "/console/") as page:
        assert "Ada Admin" in await page.text()


async def test_a_sign_in_posted_from_another_site_is_refused(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    response = await sign_in(
        running_console, browser, Role.SUPERVISOR, Origin="https://evil.example"
    )
    assert response.status == 403
    response = await sign_in(
        running_console, browser, Role.SUPERVISOR, **{"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status == 403


async def test_sign_out_needs_the_page_token_and_ends_the_session(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    await sign_in(running_console, browser, Role.SUPERVISOR)
    base = running_console.base_url
    async with browser.post(
        base + "/console/sign-out", data={"csrf": "forged"}, allow_redirects=False
    ) as forged:
        assert forged.status == 403
    async with browser.get(base + "/console/") as page:
        html = await page.text()
    token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    async with browser.post(
        base + "/console/sign-out", data={"csrf": token}, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/sign-in?signed_out"
    async with browser.get(base + "/console/stream") as stream:
        assert stream.status == 401


async def test_a_revoked_key_ends_the_console_session(
    running_console: RunningConsole, browser: aiohttp.ClientSession
) -> None:
    await sign_in(running_console, browser, Role.SUPERVISOR)
    hotline = running_console.hotline
    await OperatorService(hotline.require_sessions(), hotline.clock).revoke("Sam Superviseur")
    base = running_console.base_url
    async with browser.get(base + "/console/", allow_redirects=False) as page:
        assert page.status == 303
    async with browser.get(base + "/console/stream") as stream:
        assert stream.status == 401


def test_sessions_expire_after_their_lifetime() -> None:
    clock = FakeClock(TUESDAY_10H)
    store = SessionStore(clock, timedelta(minutes=480))
    token, session = store.open("Sam", Role.SUPERVISOR, "abc")
    assert store.get(token) == session
    assert session.id != token, "the store keys sessions by a digest, not the cookie"
    clock.advance(timedelta(minutes=479))
    assert store.get(token) is not None
    clock.advance(timedelta(minutes=1))
    assert store.get(token) is None
    assert store.get("not-a-token") is None
