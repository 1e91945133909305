"""The console's parts, built once per app, and its life as an aiohttp cleanup context."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts.operators import OperatorService
from callrouter.ami.client import AMIClient
from callrouter.clock import Clock, SimulatedClock, SystemClock
from callrouter.config import ConsoleConfig
from callrouter.console.activity_panels import AlertsPanel, DecisionsPanel, LinkPanel
from callrouter.console.figures import QueueStatistics, WindowSettings
from callrouter.console.hub import ConsoleHub
from callrouter.console.panel import FIGURES, LIVE, Panel
from callrouter.console.panels_polled import PolledPanel, follow
from callrouter.console.queue_panels import FiguresPanel, HistoryPanel, QueuesPanel
from callrouter.console.refunds_panel import RefundsPanel, follow_refunds
from callrouter.console.sessions import SessionStore
from callrouter.console.tracker import OutcomeTracker
from callrouter.console.watch import Watch
from callrouter.live.state import LiveState


@dataclass
class Console:
    settings: ConsoleConfig
    hub: ConsoleHub
    watch: Watch
    statistics: QueueStatistics
    tracker: OutcomeTracker
    alerts: AlertsPanel
    refunds: RefundsPanel
    sessions: SessionStore
    operators: OperatorService
    database: async_sessionmaker[AsyncSession]
    live: LiveState
    clock: Clock
    timezone: ZoneInfo
    detach: list[Callable[[], None]] = field(default_factory=list)
    polled: list[PolledPanel] = field(default_factory=list)

    def register(self, panel: Panel) -> None:
        """Add a panel (before the app starts); see callrouter.console.panel."""
        self.hub.register(panel)

    def register_polled(self, panel: PolledPanel) -> None:
        """Add a panel whose poller the console's context runs (panels_polled)."""
        self.hub.register(panel)
        self.polled.append(panel)


CONSOLE = web.AppKey("console", Console)


def clock_rate(clock: Clock) -> float:
    """How fast the hotline's clock runs against the wall: the page ticks waiting times
    at this rate between two pushes (0 for a clock that only moves when told, in tests)."""
    if isinstance(clock, SimulatedClock):
        return clock.speed
    return 1.0 if isinstance(clock, SystemClock) else 0.0


def build_console(
    settings: ConsoleConfig,
    *,
    live: LiveState,
    clock: Clock,
    timezone: ZoneInfo,
    database: async_sessionmaker[AsyncSession],
    session_clock: Clock | None = None,
) -> Console:
    """The console with its built-in panels. Sessions expire on `session_clock` (the wall
    clock by default: the demo's clock runs faster than a shift)."""
    hub = ConsoleHub(
        clock,
        timezone,
        push_interval=settings.push_interval,
        max_consoles=settings.max_consoles,
        clock_rate=clock_rate(clock),
    )
    watch = Watch(clock, hub.changed)
    statistics = QueueStatistics(
        WindowSettings(
            window=timedelta(minutes=settings.window_minutes),
            service_level_within=timedelta(seconds=settings.service_level_seconds),
            bucket=timedelta(minutes=settings.chart_bucket_minutes),
            history=timedelta(hours=settings.chart_hours),
        )
    )
    tracker = OutcomeTracker(statistics, clock, live.knows_queue, lambda: hub.changed(FIGURES))
    alerts = AlertsPanel(watch)
    refunds = RefundsPanel()
    for panel in (
        alerts,
        LinkPanel(watch),
        QueuesPanel(live, watch, tracker.connected_at),
        FiguresPanel(live, statistics),
        HistoryPanel(statistics),
        DecisionsPanel(watch),
        refunds,
    ):
        hub.register(panel)

    def sample_waiting(topics: set[str]) -> None:
        # The chart's "most callers waiting": sampled when the live view changed.
        if LIVE in topics:
            now = clock.now()
            for name in live.queue_names():
                statistics.waiting(name, now, live.queue_load(name)[2])

    hub.before_flush(sample_waiting)
    return Console(
        settings=settings,
        hub=hub,
        watch=watch,
        statistics=statistics,
        tracker=tracker,
        alerts=alerts,
        refunds=refunds,
        sessions=SessionStore(
            session_clock or SystemClock(), timedelta(minutes=settings.session_minutes)
        ),
        operators=OperatorService(database, clock),
        database=database,
        live=live,
        clock=clock,
        timezone=timezone,
    )


def attach_pbx(console: Console, client: AMIClient) -> None:
    """Follow the live view, the PBX link and the queue outcomes (undone by `detach`)."""
    hub, watch, live = console.hub, console.watch, console.live

    async def connected() -> None:
        watch.connected()
        # Whatever the consoles were shown before the link came back, start again whole.
        hub.resync()

    console.detach += [
        live.on_change(lambda: hub.changed(LIVE)),
        client.subscribe(console.tracker.on_event),
        client.on_connected(connected),
        client.on_disconnected(watch.disconnected),
    ]
    if client.connected:
        watch.connected()


def console_context(console: Console) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(console.hub.run(), name="console-hub"),
            asyncio.create_task(console.hub.keep_streams(), name="console-streams"),
            asyncio.create_task(
                follow_refunds(
                    console.refunds,
                    console.database,
                    console.clock,
                    console.timezone,
                    console.hub.changed,
                ),
                name="console-refunds",
            ),
            *(
                asyncio.create_task(
                    follow(panel, console.clock, console.hub.changed),
                    name=f"console-{panel.key}",
                )
                for panel in console.polled
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for undo in console.detach:
                undo()
            console.detach.clear()

    return context
