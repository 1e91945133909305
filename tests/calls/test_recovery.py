"""Call records agree with the PBX after the router was away (issue 7, item 12), over real
TCP: the PBX simulator, the AMI link, the router and a database.

- calls the fail-safe queued while the router was down get a fail-safe record;
- a decision carried out by a router that died before writing its record is recovered
  from the channel's HOTLINE_* variables at the next start;
- a record that says the Redirect failed, because the link dropped after the PBX carried
  it out and before its answer came, is corrected from the PBX's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callrouter.calls.records import CallRecordData, recent_call_records
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings
from callrouter.routing.service import RoutedCall
from callrouter.server import routing
from callrouter.server.hotline import Hotline

from ..support.live_hotline import SECRET, CuttingProxy, hotline_on, new_customer
from ..support.waits import until, until_async

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_10H = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
#: Safety net only: every wait ends on something the system does.
LIMIT = 15.0


def simulator_settings(*, router_wait: float = 5.0) -> SimulatorSettings:
    # Model time runs 50x faster than real time; agents never answer during a test.
    return SimulatorSettings(
        port=0,
        username="callrouter",
        secret=SECRET,
        router_wait=router_wait,
        time_scale=0.02,
        login_failure_delay=0.0,
        answer_delay=(1000.0, 1000.0),
        patience=(10_000.0, 10_000.0),
        seed=7,
    )


async def records_of(hotline: Hotline) -> list[CallRecordData]:
    async with hotline.require_sessions()() as session:
        return await recent_call_records(session, limit=100)


def waiting(simulator: PBXSimulator, queue: str = "coordinators") -> list[tuple[str, int]]:
    callers = simulator.snapshot()["queues"][queue]["callers"]
    return [(caller["caller_id"], caller["priority"]) for caller in callers]


@pytest.fixture
async def simulator() -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(simulator_settings())
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def test_calls_the_failsafe_queued_while_the_router_was_down_get_failsafe_records(
    simulator: PBXSimulator, sqlite_url: str
) -> None:
    # No router: the dialplan's fail-safe queues both callers itself.
    simulator.place_call(CallerProfile("0633333333", "Chloé"))
    simulator.place_call(CallerProfile("0644444444", "David"))
    await until(lambda: len(waiting(simulator)) == 2, "both queued by the fail-safe")

    async with hotline_on(sqlite_url, simulator.port, TUESDAY_10H) as hotline:

        async def recorded() -> bool:
            return len(await records_of(hotline)) == 2

        await until_async(recorded, "a record for each held call")
        records = await records_of(hotline)

    assert sorted(r.caller_id for r in records) == ["0633333333", "0644444444"]
    for record in records:
        assert record.failsafe and not record.redirected
        assert (record.target, record.queue, record.queue_priority) == (
            "coordinators-queue",
            "coordinators",
            0,
        )
        assert record.window == "coordinators"
        assert record.reconciled_at is not None
    # Each call has its own record, keyed like the PBX's channels.
    channels = {r.channel for r in records}
    assert channels <= set(simulator.snapshot()["channels"])


async def test_a_failsafe_after_the_router_came_back_records_a_call_it_never_heard_of(
    sqlite_url: str,
) -> None:
    # The caller is announced while the router is down; the fail-safe fires once it is up.
    sim = PBXSimulator(simulator_settings(router_wait=100.0))
    await sim.start()
    try:
        watcher, session = await _announcements(sim.port)
        sim.place_call(CallerProfile("0655555555", "Élodie"))
        async with asyncio.timeout(LIMIT):
            await watcher.readuntil(b"UserEvent: HotlineCall")
        session.close()
        async with hotline_on(sqlite_url, sim.port, TUESDAY_10H) as hotline:
            await until(lambda: len(waiting(sim)) == 1, "queued by the fail-safe")

            async def recorded() -> bool:
                return len(await records_of(hotline)) == 1

            await until_async(recorded, "the fail-safe's record")
            [record] = await records_of(hotline)
    finally:
        await sim.stop()

    assert record.caller_id == "0655555555"
    assert record.failsafe and record.target == "coordinators-queue"
    assert record.latency_ms >= 100_000.0  # Waited: the IVR, then 100 s on hold
    assert record.reconciled_at is None  # written from the event, not reconciled


async def _announcements(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An AMI session of the test's own that sees the PBX's events."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"Action: Login\r\nUsername: callrouter\r\nSecret: {SECRET}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def test_a_decision_whose_record_died_with_the_router_is_recovered_at_restart(
    simulator: PBXSimulator, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def killed_before_writing(hotline: Hotline, routed: RoutedCall) -> None:
        # The process dies between the Redirect and the record's write (kill -9).
        return None

    monkeypatch.setattr(routing, "_record", killed_before_writing)
    async with hotline_on(sqlite_url, simulator.port, TUESDAY_10H) as first:
        await new_customer(first, "0622222222")
        simulator.place_call(CallerProfile("0622222222", "Bernard", pass_digit="3"))
        await until(lambda: waiting(simulator) == [("0622222222", 10)], "routed, Prioritaire")
        assert first.router is not None
        await first.router.wait_idle()
        assert await records_of(first) == []
    monkeypatch.undo()

    async with hotline_on(sqlite_url, simulator.port, TUESDAY_10H) as restarted:

        async def recovered() -> bool:
            return len(await records_of(restarted)) == 1

        await until_async(recovered, "the decision recovered from the PBX")
        [record] = await records_of(restarted)

    assert record.caller_id == "0622222222"
    assert (record.target, record.queue, record.queue_priority) == (
        "coordinators-queue",
        "coordinators",
        10,
    )
    assert record.redirected and not record.failsafe
    assert record.reconciled_at is not None


async def test_a_redirect_whose_answer_was_lost_with_the_link_is_corrected_from_the_pbx(
    simulator: PBXSimulator, sqlite_url: str
) -> None:
    proxy = CuttingProxy(simulator.port)
    port = await proxy.start()
    try:
        async with hotline_on(sqlite_url, port, TUESDAY_10H) as hotline:
            assert hotline.ami is not None and hotline.router is not None
            await new_customer(hotline, "0611111111")
            proxy.armed, proxy.before_redirect = True, False
            simulator.place_call(CallerProfile("0611111111", "Anne", pass_digit="1"))
            await until(lambda: proxy.cuts == 1, "the link cut before the Redirect's answer")
            await until(lambda: waiting(simulator) == [("0611111111", 0)], "the caller routed")
            await hotline.router.wait_idle()
            await until(lambda: hotline.ami is not None and hotline.ami.connected, "link back")

            async def corrected() -> bool:
                records = await records_of(hotline)
                return len(records) == 1 and records[0].reconciled_at is not None

            await until_async(corrected, "the record corrected after the reconnect")
            [record] = await records_of(hotline)
    finally:
        await proxy.stop()

    assert record.caller_id == "0611111111"
    assert record.target == "coordinators-queue"
    assert record.redirected and record.error is None
    assert "dropped" not in record.reason
