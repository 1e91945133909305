"""The simulator's timers on the event loop: they fire in model time, cancel, and leave no
cyclic garbage (a collector pause in the simulator bunches its events into bursts)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from callrouter.pbxsim.scheduler import AsyncioScheduler


@pytest.fixture
def collector_saving_garbage() -> Iterator[None]:
    """Cyclic garbage kept in gc.garbage instead of freed, with the collector held off."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


async def test_timers_fire_in_model_time_and_cancel() -> None:
    loop = asyncio.get_running_loop()
    # One model second is a thousandth of a real one.
    scheduler = AsyncioScheduler(loop, time_scale=0.001, epoch=1_000.0)
    fired: list[str] = []
    scheduler.call_later(2.0, lambda: fired.append("late"))
    scheduler.call_later(1.0, lambda: fired.append("early"))
    cancelled = scheduler.call_later(1.5, lambda: fired.append("cancelled"))
    cancelled.cancel()
    await asyncio.sleep(0.01)
    assert fired == ["early", "late"]
    assert scheduler.now() >= 1_002.0


async def test_cancel_all_stops_every_timer() -> None:
    scheduler = AsyncioScheduler(asyncio.get_running_loop(), time_scale=0.001, epoch=0.0)
    fired: list[int] = []
    for index in range(5):
        scheduler.call_later(1.0, lambda index=index: fired.append(index))
    scheduler.cancel_all()
    await asyncio.sleep(0.005)
    assert fired == []


@pytest.mark.usefixtures("collector_saving_garbage")
async def test_fired_and_cancelled_timers_leave_no_cyclic_garbage() -> None:
    scheduler = AsyncioScheduler(asyncio.get_running_loop(), time_scale=0.001, epoch=0.0)
    fired: list[int] = []
    for index in range(200):
        timer = scheduler.call_later(0.5, lambda index=index: fired.append(index))
        if index % 2:
            timer.cancel()
    del timer
    await asyncio.sleep(0.005)
    assert len(fired) == 100
    gc.collect()
    kept = [type(thing).__name__ for thing in gc.garbage]
    assert kept == []
