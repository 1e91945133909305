"""A polled panel's poller: announces its topic when a reading changed, survives a failed
reading (the panel keeps its last one), and stops when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from callrouter.clock import FakeClock
from callrouter.console.panel import Labels, PanelView
from callrouter.console.panels_polled import follow

from ..support.waits import until


class Flaky:
    key = "flaky"
    topic = "flaky"
    topics = frozenset({"flaky"})
    interval = 0.0
    labels: ClassVar[Labels] = {"fr": {}, "en": {}}

    def __init__(self) -> None:
        # What each reading does: changed, unchanged, the database away, changed again;
        # unchanged after that.
        self.script: list[bool | Exception] = [True, False, OSError("database away"), True]
        self.reads = 0

    async def refresh(self, now: datetime) -> bool:
        self.reads += 1
        step = self.script[self.reads - 1] if self.reads <= len(self.script) else False
        if isinstance(step, Exception):
            raise step
        return step

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        return {"configured": True}


async def test_the_poller_announces_changes_only_and_survives_a_failed_reading() -> None:
    panel = Flaky()
    announced: list[str] = []
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    task = asyncio.create_task(follow(panel, clock, announced.append))
    try:
        await until(lambda: panel.reads >= 6, "six readings")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # Readings 1 and 4 changed something; the others did not; 3 failed and the poller
    # went on.
    assert announced == ["flaky", "flaky"]
    assert task.cancelled()
