"""The 4H callbacks panel's reading from the callbacks' and ledger's tables: what is still
owed (earliest deadline first, the dialling ones marked) and today's outcomes."""

from __future__ import annotations

from datetime import timedelta

from callrouter.calendar import PARIS
from callrouter.callbacks.rules import Outcome
from callrouter.console.panels_callbacks import OwedCallback
from callrouter.console.panels_callbacks_source import callbacks_source
from callrouter.console.refunds_panel import start_of_day

from ..callbacks.conftest import Desk, desk, expert

__all__ = ["desk"]  # the callbacks' desk fixture, used here as it is


async def test_owed_callbacks_and_todays_outcomes(desk: Desk) -> None:
    engine = desk.new_engine()
    desk.experts = []
    _, late = await desk.open()  # 10:00, due 14:00: breached at 14:10
    desk.advance(timedelta(minutes=15))
    _, met = await desk.open(domain="hvac")
    desk.experts = [expert("emma", "hvac")]
    await engine.run_once()
    await engine.on_result(desk.result(desk.placer.placed[-1], Outcome.CONNECTED))
    desk.advance(timedelta(minutes=5))
    _, dialling = await desk.open(domain="lighting")
    desk.experts = [expert("lea", "lighting")]
    await engine.run_once()
    desk.experts = []
    desk.advance(timedelta(minutes=5))
    cancelled, _ = await desk.open()
    await desk.ledger.reclassify_non_attributable(cancelled, "not ours", "r1")
    desk.advance(timedelta(minutes=5))
    _, pending = await desk.open(number="0698765432")  # 10:30, due 14:30
    desk.advance(timedelta(hours=3, minutes=40))  # 14:10
    await engine.run_once()  # the late one is breached and refunded

    read = callbacks_source(desk.engine)
    reading = await read(start_of_day(desk.clock.now(), PARIS))
    assert [owed.id for owed in reading.owed] == [late, dialling, pending]
    by_id = {owed.id: owed for owed in reading.owed}
    assert by_id[dialling].dialling and not by_id[pending].dialling
    assert by_id[pending] == OwedCallback(
        pending, "knx", "0698765432", by_id[pending].due_at, dialling=False
    )
    assert met not in by_id
    assert (reading.met_today, reading.breached_today) == (1, 1)
    assert reading.refunded_points_today > 0
    # Tomorrow, nothing happened yet today; what is owed is still owed.
    tomorrow = await read(start_of_day(desk.clock.now() + timedelta(days=1), PARIS))
    assert (tomorrow.met_today, tomorrow.breached_today, tomorrow.refunded_points_today) == (
        0,
        0,
        0,
    )
    assert [owed.id for owed in tomorrow.owed] == [late, dialling, pending]
