"""A message's record is durable before the caller hears it (issue 7, item 12b), over real
TCP: the PBX simulator, the AMI link, the router and a database.

A message (here the refusal of an unknown caller) ends the call within seconds: a router
killed between the Redirect and the record's write would find nothing left on the PBX to
recover it from. So the record is journaled on local disk before the Redirect (written to
the database from there at the next start if the router died first), and completed with
the Redirect's answer afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callrouter.calls.records import CallRecordData
from callrouter.calls.writer import CallRecordWriter
from callrouter.pbxsim import CallerProfile, PBXSimulator
from callrouter.routing.decision import RoutingPolicy
from callrouter.routing.service import UNANSWERED, RoutedCall, Router
from callrouter.server import routing
from callrouter.server.hotline import Hotline

from ..support.live_hotline import hotline_on
from ..support.waits import until, until_async
from .test_recovery import TUESDAY_10H, records_of, simulator_settings

UNKNOWN = CallerProfile("0699999999", "Inconnu")


def message_simulator(refusal_seconds: float) -> PBXSimulator:
    """The refusal plays `refusal_seconds` (model time) before the dialplan hangs up."""
    # The fail-safe never fires: 5 model seconds would be 100 ms of a loaded machine.
    settings = simulator_settings(router_wait=100_000.0)
    settings.prompts = {**settings.prompts, RoutingPolicy().refused_sound: refusal_seconds}
    return PBXSimulator(settings)


@pytest.fixture
async def simulator() -> AsyncIterator[PBXSimulator]:
    # 4 model seconds of refusal: 80 ms of real time, then the call is gone.
    sim = message_simulator(4.0)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def killed_after_the_redirect(hotline: Hotline, routed: RoutedCall) -> None:
    # The process dies once the Redirect is sent, before anything else (kill -9).
    return None


async def one_record(hotline: Hotline) -> CallRecordData:
    async def written() -> bool:
        return len(await records_of(hotline)) == 1

    await until_async(written, "the call's record")
    [record] = await records_of(hotline)
    return record


async def message_heard(hotline: Hotline, simulator: PBXSimulator) -> str:
    """An unknown number calls and hears the refusal to the end; returns its channel once
    the router has done with it."""
    channel = simulator.place_call(UNKNOWN)
    await until(lambda: channel not in simulator.snapshot()["channels"], "message over")
    assert hotline.router is not None
    await hotline.router.wait_idle()
    return channel


async def message_redirected(hotline: Hotline, simulator: PBXSimulator) -> tuple[str, Router]:
    """An unknown number calls; returns its channel and the router once the router has sent
    its Redirect and done with it (the message may still be playing)."""
    channel = simulator.place_call(UNKNOWN)
    router = hotline.router
    assert router is not None
    await until(lambda: len(router.latencies_ms) == 1, "the Redirect sent")
    await router.wait_idle()
    return channel, router


def assert_refusal(record: CallRecordData, channel: str) -> None:
    assert (record.channel, record.caller_id) == (channel, "0699999999")
    assert (record.target, record.queue, record.caller_status) == (
        "refusal-message",
        None,
        "unknown",
    )
    assert not record.failsafe


async def test_a_message_whose_router_died_after_the_redirect_keeps_its_record(
    simulator: PBXSimulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On both databases: PostgreSQL's writer commits without waiting for the server's
    # fsync, which still outlives the router.
    monkeypatch.setattr(routing, "_record", killed_after_the_redirect)
    async with hotline_on(database_url, simulator.port, TUESDAY_10H) as first:
        channel = await message_heard(first, simulator)
    monkeypatch.undo()

    # By the restart the call is gone: nothing on the PBX to recover the record from.
    async with hotline_on(database_url, simulator.port, TUESDAY_10H) as restarted:
        record = await one_record(restarted)

    assert_refusal(record, channel)
    # The decision is on file; whether the Redirect took effect is not.
    assert not record.redirected
    assert record.error == UNANSWERED
    assert record.reconciled_at is None


async def test_a_message_record_the_database_never_got_is_written_once_at_restart(
    simulator: PBXSimulator, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The router dies right after the Redirect, its record not yet written (the writer
    # never ran: kill -9 in the middle of the callers' traffic).
    async def killed(writer: CallRecordWriter) -> None:
        return None

    monkeypatch.setattr(routing, "_record", killed_after_the_redirect)
    monkeypatch.setattr(CallRecordWriter, "start", lambda writer: None)
    monkeypatch.setattr(CallRecordWriter, "flush", killed)
    monkeypatch.setattr(CallRecordWriter, "close", killed)
    async with hotline_on(database_url, simulator.port, TUESDAY_10H) as first:
        channel = await message_heard(first, simulator)
        assert await records_of(first) == []
    monkeypatch.undo()

    # Written from the journal before the restarted router routes anything.
    async with hotline_on(database_url, simulator.port, TUESDAY_10H) as restarted:
        [record] = await records_of(restarted)
        assert restarted.records is not None
        await restarted.records.flush()
        assert len(await records_of(restarted)) == 1

    assert_refusal(record, channel)
    assert not record.redirected
    assert record.error == UNANSWERED


async def test_a_message_still_playing_at_the_restart_is_confirmed_from_the_pbx(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long message: the caller still hears it when the router is back.
    sim = message_simulator(100_000.0)
    await sim.start()
    try:
        monkeypatch.setattr(routing, "_record", killed_after_the_redirect)
        async with hotline_on(sqlite_url, sim.port, TUESDAY_10H) as first:
            channel, _ = await message_redirected(first, sim)
        monkeypatch.undo()

        async with hotline_on(sqlite_url, sim.port, TUESDAY_10H) as restarted:

            async def confirmed() -> bool:
                records = await records_of(restarted)
                return len(records) == 1 and records[0].reconciled_at is not None

            await until_async(confirmed, "the record confirmed from the PBX")
            record = await one_record(restarted)
        assert channel in sim.snapshot()["channels"]
    finally:
        await sim.stop()

    # The decision's own record, completed: not a second one recovered from the variables.
    assert_refusal(record, channel)
    assert record.redirected and record.error is None


async def test_a_message_record_says_redirected_once_the_pbx_answered(
    simulator: PBXSimulator, sqlite_url: str
) -> None:
    async with hotline_on(sqlite_url, simulator.port, TUESDAY_10H) as hotline:
        channel, router = await message_redirected(hotline, simulator)
        assert hotline.records is not None
        await hotline.records.flush()
        record = await one_record(hotline)

    assert_refusal(record, channel)
    assert record.redirected and record.error is None
    # The latency is the Redirect's, written with the outcome.
    assert record.latency_ms == pytest.approx(router.latencies_ms[0])


async def test_a_message_record_says_why_when_the_redirect_failed(
    simulator: PBXSimulator, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = simulator.model
    redirect = model.redirect

    def hung_up_first(channel_name: str, context: str) -> str | None:
        # The caller hangs up just before the Redirect reaches the PBX.
        model.hangup(channel_name)
        return redirect(channel_name, context)

    monkeypatch.setattr(model, "redirect", hung_up_first)
    async with hotline_on(sqlite_url, simulator.port, TUESDAY_10H) as hotline:
        channel, _ = await message_redirected(hotline, simulator)
        assert hotline.records is not None
        await hotline.records.flush()
        record = await one_record(hotline)

    assert_refusal(record, channel)
    assert not record.redirected
    assert record.error is not None and "Channel does not exist" in record.error
