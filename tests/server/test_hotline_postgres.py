"""On PostgreSQL the hotline opens its hot pool with the database and closes it with it;
calls identified by caller ID through it are routed and recorded as on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from callrouter.calls.records import recent_call_records
from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.identity import service as identity_service
from callrouter.pbxsim import CallerProfile, PBXSimulator
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

from .test_hotline import SECRET, TUESDAY_10H, simulator_settings, until

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


async def test_a_caller_is_recognised_and_recorded_through_the_hot_pool(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: Any) -> None:
        raise AssertionError("identified through SQLAlchemy's pool")

    monkeypatch.setattr(identity_service, "driver_connection", refused)
    simulator = PBXSimulator(simulator_settings())
    await simulator.start()
    hotline = Hotline(
        config=Config(),
        database_url=database_url,
        pbx=PBXLink("127.0.0.1", simulator.port, "callrouter", SECRET),
        clock=FakeClock(TUESDAY_10H),
    )
    runner = web.AppRunner(build_app(hotline))
    hot_pool = hotline.hot_pool
    assert hot_pool is not None and not hot_pool.is_open
    await runner.setup()
    try:
        assert hot_pool.is_open
        await until(lambda: hotline.ami is not None and hotline.ami.connected, "PBX link up")
        assert hotline.identity is not None and hotline.ledger is not None
        account = await hotline.identity.create_account("Claire Lefèvre", pin="903114")
        await hotline.identity.add_beneficiary(account.number, "Claire Lefèvre", "0611111111")
        await hotline.ledger.credit(account.number, 500, reason="test", idempotency_key="t:1")
        simulator.place_call(CallerProfile("0611111111", "Claire", pass_digit="3"))
        router = hotline.router
        await until(lambda: router is not None and len(router.latencies_ms) == 1, "routed")
        assert router is not None and hotline.records is not None
        await router.wait_idle()
        await hotline.records.flush()
        async with hotline.require_sessions()() as session:
            [record] = await recent_call_records(session)
        assert (record.caller_status, record.account_number, record.queue_priority) == (
            "caller-id",
            account.number,
            10,
        )
    finally:
        await runner.cleanup()
        await simulator.stop()
    assert not hot_pool.is_open
