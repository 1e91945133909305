"""The callbacks' Prometheus gauges: counts read from the tables every few seconds, so that
a scrape reads memory only."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.rules import Standing
from callrouter.metrics.registry import CallbackCounts, HotlineMetrics, register_callback_gauges

log = structlog.get_logger(__name__)

#: Seconds between two counts (a grouped count of the open callbacks).
REFRESH_S = 15.0


class CallbackGauges:
    def __init__(self, queries: CallbackQueries, metrics: HotlineMetrics) -> None:
        self._queries = queries
        self.counts = CallbackCounts(pending=0, at_risk=0, breached=0)
        self._task: asyncio.Task[None] | None = None
        register_callback_gauges(metrics, lambda: self.counts)

    async def refresh(self) -> None:
        counts = await self._queries.open_counts()
        self.counts = CallbackCounts(
            pending=counts.get(Standing.PENDING, 0) + counts.get(Standing.DIALLING, 0),
            at_risk=counts.get(Standing.AT_RISK, 0),
            # Breached and the caller not reached yet.
            breached=counts.get(Standing.BREACHED, 0),
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="callback-gauges")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("callbacks.gauges_failed")
            await asyncio.sleep(REFRESH_S)
