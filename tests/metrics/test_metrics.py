"""/metrics of a running hotline: routing, the PBX link, queues, ledger, HTTP; served
behind its token on the public port, or on a listener of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from callrouter.clock import SimulatedClock
from callrouter.config import Config, MetricsConfig
from callrouter.ledger.prices import AssistanceLevel
from callrouter.metrics.ledger import read_ledger_totals
from callrouter.metrics.registry import (
    CallbackCounts,
    HotlineMetrics,
    reason_kind,
    register_callback_gauges,
)
from callrouter.passes import Pass
from callrouter.pbxsim import CallerProfile

from ..console.conftest import TUESDAY_10H, RunningConsole, start_console
from ..support.waits import until

TOKEN = "a-metrics-token-of-at-least-32-characters"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.text()


@pytest.fixture
async def with_token(sqlite_url: str) -> AsyncIterator[RunningConsole]:
    config = replace(Config(), metrics=MetricsConfig(enabled=True, token=TOKEN))
    running = await start_console(sqlite_url, SimulatedClock(TUESDAY_10H), config)
    try:
        yield running
    finally:
        assert running.runner is not None
        await running.runner.cleanup()
        await running.simulator.stop()


async def test_routing_link_queues_ledger_and_http_are_counted(
    with_token: RunningConsole,
) -> None:
    running = with_token
    await running.new_customer("0611111111")
    running.simulator.place_call(CallerProfile("0611111111", "Claire", pass_digit="1"))
    live = running.hotline.live
    assert live is not None
    await until(lambda: live.queue_load("coordinators")[2] == 1, "the caller waits")
    ledger, identity = running.hotline.ledger, running.hotline.identity
    assert ledger is not None and identity is not None
    account = await identity.identify_caller("0611111111", None, None)
    assert account.account_number is not None
    await ledger.open_incident(
        account.account_number,
        level=AssistanceLevel.STANDARD,
        pass_=Pass.FOUR_HOURS,
        idempotency_key="metrics-test",
    )
    metrics = running.hotline.metrics
    assert metrics is not None
    metrics.ledger = await read_ledger_totals(running.hotline.require_sessions())
    await scrape(running.base_url + "/api/queues")  # 401: counted too
    status, text = await scrape(running.base_url + "/metrics")
    assert status == 200
    found = samples(text)
    routed = (("reason", "pass-4h"), ("target", "coordinators-queue"))
    assert found[("callrouter_calls_routed_total", routed)] == 1
    assert found[("callrouter_routing_latency_seconds_count", ())] == 1
    assert found[("callrouter_ami_up", ())] == 1
    assert found[("callrouter_ami_reconnects_total", ())] == 0
    assert found[("callrouter_queue_waiting_callers", (("queue", "coordinators"),))] == 1
    assert found[("callrouter_ledger_debits_total", ())] == 1
    assert found[("callrouter_ledger_debited_points_total", ())] > 0
    assert found[("callrouter_ledger_refunds_total", ())] == 0
    api = (("method", "GET"), ("route", "/api/queues"), ("status", "401"))
    assert found[("callrouter_http_requests_total", api)] == 1


async def test_the_public_metrics_need_their_token(with_token: RunningConsole) -> None:
    assert (await scrape(with_token.base_url + "/metrics", token=None))[0] == 401
    assert (await scrape(with_token.base_url + "/metrics", token="x" * 40))[0] == 401


async def test_reconnections_and_the_link_state_are_counted(with_token: RunningConsole) -> None:
    running = with_token
    ami = running.hotline.ami
    assert ami is not None
    await running.restart_pbx()
    await until(lambda: ami.stats.reconnects == 1 and ami.connected, "reconnected", 15)
    found = samples((await scrape(running.base_url + "/metrics"))[1])
    assert found[("callrouter_ami_reconnects_total", ())] == 1
    assert found[("callrouter_ami_up", ())] == 1


async def test_without_a_token_metrics_are_served_on_their_own_listener_only(
    sqlite_url: str,
) -> None:
    config = replace(Config(), metrics=MetricsConfig(enabled=True, port=0))
    running = await start_console(sqlite_url, SimulatedClock(TUESDAY_10H), config)
    try:
        metrics = running.hotline.metrics
        assert metrics is not None and metrics.address is not None
        host, port = metrics.address
        status, text = await scrape(f"http://{host}:{port}/metrics", token=None)
        assert status == 200 and "callrouter_ami_up 1.0" in text
        assert (await scrape(running.base_url + "/metrics", token=None))[0] == 404
    finally:
        assert running.runner is not None
        await running.runner.cleanup()
        await running.simulator.stop()


def test_reason_labels_keep_the_kind_and_drop_the_details() -> None:
    assert reason_kind("pass-4h") == "pass-4h"
    assert reason_kind("wrong-pin, attempt 2 of 3") == "wrong-pin"
    assert reason_kind("closed-hours, on-call window closed") == "closed-hours"
    assert reason_kind("pass-4h; queue coordinators has no member") == "pass-4h"
    assert reason_kind("account 12345678 has 20 points") == "account has points"
    assert reason_kind("") == "none"


def test_callback_gauges_are_read_at_each_scrape() -> None:
    from prometheus_client import generate_latest

    metrics = HotlineMetrics()
    counts = CallbackCounts(pending=3, at_risk=1, breached=0)
    register_callback_gauges(metrics, lambda: counts)
    found = samples(generate_latest(metrics.registry).decode())
    assert found[("callrouter_callbacks", (("state", "pending"),))] == 3
    assert found[("callrouter_callbacks", (("state", "at_risk"),))] == 1
    assert found[("callrouter_callbacks", (("state", "breached"),))] == 0


async def test_unmatched_paths_share_one_label() -> None:
    from callrouter.metrics.http import request_counter

    metrics = HotlineMetrics()
    app = web.Application(middlewares=[request_counter(metrics)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        for path in ("/a", "/b/c"):
            await scrape(f"http://127.0.0.1:{port}{path}", token=None)
    finally:
        await runner.cleanup()
    from prometheus_client import generate_latest

    found = samples(generate_latest(metrics.registry).decode())
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("callrouter_http_requests_total", unmatched)] == 2
