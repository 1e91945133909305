"""The 4H callbacks panel's reading from the callbacks' and ledger's tables: what is still
owed (earliest deadline first, the dialling ones marked) and today's outcomes."""

from __future__ import annotations

from datetime import timedelta

from callrouter.calendar import PARIS
from callrouter.console.panels_callbacks import OwedCallback
from callrouter.console.panels_callbacks_source import callbacks_source
from callrouter.console.refunds_panel import start_of_day

from ..callbacks.conftest import Desk, a_day_of_callbacks, desk

__all__ = ["desk"]  # the callbacks' desk fixture, used here as it is


async def test_owed_callbacks_and_todays_outcomes(desk: Desk) -> None:
    day = await a_day_of_callbacks(desk)
    await day.engine.run_once()  # the late one is breached and refunded
    late, at_risk, dialling, pending = day.late, day.at_risk, day.dialling, day.pending

    read = callbacks_source(desk.engine)
    reading = await read(start_of_day(desk.clock.now(), PARIS))
    assert [owed.id for owed in reading.owed] == [late, at_risk, dialling, pending]
    by_id = {owed.id: owed for owed in reading.owed}
    assert by_id[dialling].dialling and not by_id[pending].dialling
    assert by_id[pending] == OwedCallback(
        pending, "knx", "0698765432", by_id[pending].due_at, dialling=False
    )
    assert day.met not in by_id and day.cancelled not in by_id
    assert (reading.met_today, reading.breached_today) == (1, 1)
    assert reading.refunded_points_today > 0
    # Tomorrow, nothing happened yet today; what is owed is still owed.
    tomorrow = await read(start_of_day(desk.clock.now() + timedelta(days=1), PARIS))
    assert (tomorrow.met_today, tomorrow.breached_today, tomorrow.refunded_points_today) == (
        0,
        0,
        0,
    )
    assert [owed.id for owed in tomorrow.owed] == [late, at_risk, dialling, pending]
