"""Panels fed by a service that lives in the database (appointments, the on-call roster):
one owned poller per panel reads it every `interval` seconds, off the callers' path and
shared by every console, and announces the panel's topic when what it read changed. The
panel's snapshot then reads only what the poller kept (see callrouter.console.panel)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import structlog

from callrouter.clock import Clock
from callrouter.console.panel import Panel

log = structlog.get_logger(__name__)


class PolledPanel(Panel, Protocol):
    #: Seconds between two readings.
    interval: float
    #: Announced when a reading changed (one of `topics`).
    topic: str

    async def refresh(self, now: datetime) -> bool:
        """Read the service; True when what the panel shows may have changed."""
        ...


async def follow(panel: PolledPanel, clock: Clock, changed: Callable[[str], None]) -> None:
    """The panel's poller (a task owned by the console's context)."""
    while True:
        try:
            if await panel.refresh(clock.now()):
                changed(panel.topic)
        except Exception as error:
            # The database may be away for a while: the panel keeps its last reading.
            log.warning("console.panel_unread", panel=panel.key, error=str(error))
        await asyncio.sleep(panel.interval)
