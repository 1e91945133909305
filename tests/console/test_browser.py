"""The console in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Skipped, with the reason, when Playwright or Chromium is missing. Screenshots go to
test-artifacts/console/ at the repository root (printed; ignored by git) for a reviewer.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callrouter.http.access import Role
from callrouter.pbxsim import CallerProfile

from .conftest import RunningConsole, until

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright is not installed (pip install -e '.[dev]')"
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def chromium_path() -> str:
    found = os.environ.get("CALLROUTER_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    if not found:
        pytest.skip("no Chromium found: apt-get install chromium (or set CALLROUTER_CHROMIUM)")
    return found


@pytest.fixture
async def page(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    executable = chromium_path()
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = await browser.new_context(
            locale="en-GB", viewport={"width": 1280, "height": 1000}
        )
        page = await context.new_page()
        # The page's own errors, shown with a failing test's output.
        page.on("console", lambda message: print(f"browser console: {message.text}"))
        page.on("pageerror", lambda error: print(f"browser error: {error}"))
        try:
            yield page
        finally:
            await browser.close()


async def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    print(f"screenshot: {path}")


async def sign_in(page: object, running: RunningConsole) -> None:
    p = page  # Playwright's Page (typed loosely: the package is optional)
    await p.goto(running.base_url + "/console/")  # type: ignore[attr-defined]
    assert p.url.endswith("/console/sign-in")  # type: ignore[attr-defined]
    await p.fill("#name", running.names[Role.SUPERVISOR])  # type: ignore[attr-defined]
    await p.fill("#api_key", running.keys[Role.SUPERVISOR])  # type: ignore[attr-defined]
    await p.keyboard.press("Enter")  # type: ignore[attr-defined]
    await p.wait_for_selector("#connection.live", timeout=5000)  # type: ignore[attr-defined]


async def test_a_call_appears_ticks_is_answered_and_the_link_drop_is_shown(
    running_console: RunningConsole, page: object
) -> None:
    p: object = page
    await running_console.new_customer("0611111111")
    await sign_in(p, running_console)
    await shot(p, "01-signed-in")

    placed = time.monotonic()
    running_console.simulator.place_call(
        CallerProfile("0611111111", "Claire Lefèvre", pass_digit="1")
    )
    row = await p.wait_for_selector(  # type: ignore[attr-defined]
        "[data-queue=coordinators] tr.caller", timeout=1000
    )
    appeared = time.monotonic() - placed
    print(f"call on screen {appeared * 1000:.0f} ms after it was placed")
    assert appeared <= 1.0
    text = await row.inner_text()
    # A supervisor sees the masked number and the pass the router chose.
    assert "06 •• •• •1 11" in text and "4h" in text
    ticking = await p.query_selector("[data-queue=coordinators] tr.caller .ticking")  # type: ignore[attr-defined]
    first = await ticking.inner_text()
    await p.wait_for_function(  # type: ignore[attr-defined]
        "(first) => { const t = document.querySelector("
        "'[data-queue=coordinators] tr.caller .ticking'); return t && t.textContent !== first }",
        arg=first,
        timeout=3000,
    )
    await shot(p, "02-caller-waiting")

    # The agent answers 3 s after being rung: the caller moves to the calls in progress.
    await p.wait_for_selector(".in-call tr.call", timeout=8000)  # type: ignore[attr-defined]
    assert await p.query_selector("[data-queue=coordinators] tr.caller") is None  # type: ignore[attr-defined]
    statuses = await p.inner_text("[data-queue=coordinators]")  # type: ignore[attr-defined]
    assert "in call" in statuses
    await shot(p, "03-in-call")

    # The PBX goes away: the page says so, in words, by itself.
    port = running_console.simulator.port
    await running_console.simulator.stop()
    alert = await p.wait_for_selector("[data-alert=link-down]", timeout=5000)  # type: ignore[attr-defined]
    assert "Critical" in await alert.inner_text()
    assert "DOWN" in await p.inner_text("#panel-link")  # type: ignore[attr-defined]
    await shot(p, "04-link-down")

    # It comes back: the page resynchronises from the new PBX's lists, untouched.
    from callrouter.pbxsim import PBXSimulator

    from .conftest import simulator_settings

    running_console.simulator = PBXSimulator(simulator_settings(port))
    await running_console.simulator.start()
    await p.wait_for_selector("[data-alert=link-down]", state="detached", timeout=15000)  # type: ignore[attr-defined]
    await p.wait_for_selector(".in-call tr.call", state="detached", timeout=5000)  # type: ignore[attr-defined]
    assert "up" in await p.inner_text("#panel-link")  # type: ignore[attr-defined]
    await shot(p, "05-link-back")

    # The browser's stream drops (server side here): EventSource reconnects by itself and
    # the page starts again from a fresh snapshot, with what happened meanwhile.
    console = running_console.hotline.console
    assert console is not None
    console.hub.close_all()
    await until(lambda: console.hub.consoles == 0, "the stream dropped")
    await running_console.new_customer("0622222222", "Karim Haddad")
    running_console.simulator.place_call(
        CallerProfile("0622222222", "Karim Haddad", pass_digit="3")
    )
    await until(lambda: console.hub.consoles == 1, "the page reconnected by itself")
    row = await p.wait_for_selector("[data-queue=coordinators] tr.caller", timeout=5000)  # type: ignore[attr-defined]
    assert "06 •• •• •2 22" in await row.inner_text()
    await p.wait_for_selector("#connection.live")  # type: ignore[attr-defined]


async def test_signing_out_closes_the_page_and_the_stream(
    running_console: RunningConsole, page: object
) -> None:
    p: object = page
    await sign_in(p, running_console)
    hub = running_console.hotline.console
    assert hub is not None
    await until(lambda: hub.hub.consoles == 1, "the page's stream is connected")
    await p.click("a[hreflang=fr]")  # type: ignore[attr-defined]
    await p.wait_for_selector("#connection.live")  # type: ignore[attr-defined]
    assert "Files d'attente" in await p.inner_text("#panel-queues")  # type: ignore[attr-defined]
    await shot(p, "06-french")
    await p.click("a[hreflang=en]")  # type: ignore[attr-defined]
    await p.wait_for_selector("#connection.live")  # type: ignore[attr-defined]
    await p.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = await p.evaluate("document.activeElement.textContent")  # type: ignore[attr-defined]
    assert focused == "Skip to the panels", "the first Tab reaches the skip link"
    await p.click("text=Sign out")  # type: ignore[attr-defined]
    await p.wait_for_url("**/console/sign-in?signed_out")  # type: ignore[attr-defined]
    assert "Signed out." in await p.inner_text("main")  # type: ignore[attr-defined]
    await until(lambda: hub.hub.consoles == 0, "the stream ended")
    await shot(p, "07-signed-out")
    response = await p.goto(running_console.base_url + "/console/")  # type: ignore[attr-defined]
    assert p.url.endswith("/console/sign-in")  # type: ignore[attr-defined]
    assert response is not None
    stream = await p.request.get(running_console.base_url + "/console/stream")  # type: ignore[attr-defined]
    assert stream.status == 401


async def test_the_appointments_on_call_and_callbacks_panels_render_and_are_reachable_by_keyboard(
    running_console: RunningConsole, page: object
) -> None:
    from datetime import date, time, timedelta

    from callrouter.appointments.service import BookingRequest
    from callrouter.callbacks.opening import CallbackRequest
    from callrouter.clock import FakeClock
    from callrouter.ledger.prices import AssistanceLevel
    from callrouter.oncall.roster import Layer
    from callrouter.passes import Pass

    from .conftest import TUESDAY_10H

    hotline = running_console.hotline
    assert hotline.experts is not None and hotline.appointments is not None
    assert hotline.identity is not None and hotline.ledger is not None
    assert hotline.oncall is not None and hotline.console is not None
    # Today at 15:00, booked eight days ago (a slot is booked a week ahead at least).
    await hotline.experts.add("Lucie Martin", "PJSIP/expert1", ["knx"])
    account = (await hotline.identity.create_account("Hôtel des Alpes")).number
    await hotline.ledger.credit(account, 500, reason="test", idempotency_key="rdv")
    await hotline.appointments.with_clock(FakeClock(TUESDAY_10H - timedelta(days=8))).book(
        BookingRequest(
            account_number=account,
            domain="knx",
            level=AssistanceLevel.STANDARD,
            start=TUESDAY_10H.replace(hour=15),
            number_to_call="0612345678",
            summary="Volets bloqués",
            idempotency_key="rdv-today",
            booked_by="Claire",
        )
    )
    for name in ("Emma Petit", "Hugo Bernard"):
        await hotline.oncall.add_person(name, "PJSIP/" + name.split()[0].lower())
    await hotline.oncall.set_rotation(
        Layer.PRIMARY,
        ["Emma Petit", "Hugo Bernard"],
        shift_days=1,
        handoff_at=time(18),
        first_handoff=date(2026, 11, 23),
    )
    # A Pass 4H call with a callback owed: due at 14:00 (four business hours from 10:00).
    assert hotline.callback_openings is not None
    await hotline.callback_openings.open_incident(
        account,
        level=AssistanceLevel.STANDARD,
        pass_=Pass.FOUR_HOURS,
        idempotency_key="callback-today",
        callback=CallbackRequest("knx", "0687654321"),
    )
    # The pollers read every few seconds: read now, as their next round would.
    for panel in hotline.console.polled:
        await panel.refresh(hotline.clock.now())
        hotline.console.hub.changed(panel.topic)

    p: object = page
    await sign_in(p, running_console)
    row = await p.wait_for_selector("#panel-appointments tr.appointment", timeout=5000)  # type: ignore[attr-defined]
    text = await row.inner_text()
    assert "15:00" in text and "knx" in text and "Lucie Martin" in text and "upcoming" in text
    assert "0612345678" not in text and "78" in text, "the number is masked for a supervisor"
    oncall = await p.inner_text("#panel-oncall")  # type: ignore[attr-defined]
    # Tuesday 10:00 is daytime: nobody now; Hugo from 18:00 (the calendar's offset shown).
    assert "Outside the on-call hours" in oncall
    assert "Next, from 2026-11-24 18:00+01:00" in oncall and "Hugo Bernard" in oncall
    row = await p.wait_for_selector("#panel-callbacks tr.callback", timeout=5000)  # type: ignore[attr-defined]
    text = await row.inner_text()
    # The standing is written, not only coloured; the countdown says how long is left.
    assert "14:00" in text and "on time" in text and "3:59:" in text
    assert "0687654321" not in text, "the number is masked for a supervisor"
    assert "Today: 0 met, 0 breached, 0 points refunded" in await p.inner_text(  # type: ignore[attr-defined]
        "#panel-callbacks"
    )
    await shot(p, "08-appointments-and-on-call")

    # The panels' links are in the page's jump list and lead the keyboard to them.
    for key in ("appointments", "oncall", "callbacks"):
        link = await p.query_selector(f"nav.jump a[href='#panel-{key}']")  # type: ignore[attr-defined]
        assert link is not None
        await link.focus()
        await p.keyboard.press("Enter")  # type: ignore[attr-defined]
        focused = await p.evaluate("document.activeElement.id")  # type: ignore[attr-defined]
        assert focused == f"panel-{key}"
    await p.click("a[hreflang=fr]")  # type: ignore[attr-defined]
    await p.wait_for_selector("#panel-appointments tr.appointment", timeout=5000)  # type: ignore[attr-defined]
    assert "à venir" in await p.inner_text("#panel-appointments")  # type: ignore[attr-defined]
    assert "Hors des heures d'astreinte" in await p.inner_text("#panel-oncall")  # type: ignore[attr-defined]
    assert "dans les temps" in await p.inner_text("#panel-callbacks")  # type: ignore[attr-defined]
    await shot(p, "09-appointments-and-on-call-fr")
