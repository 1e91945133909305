"""The running hotline: each long-lived resource is an aiohttp cleanup context.

Order matters and is the order of `cleanup_ctx`: the database first (server/database.py),
then (in the demo) the PBX simulator, then the PBX link with the live view and the router
(server/routing.py), then the callbacks' dispatcher (server/callbacks.py), then the demo's
screen. Shutdown runs them backwards, so no task outlives what it uses. Here: the HTTP app
that carries them, with the services and routes around them, and the serving until a signal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import web

from callrouter.accounts.api import setup_account_api
from callrouter.appointments.api import build_services, setup_appointment_api
from callrouter.callbacks.opening import CallbackOpenings
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.routes import CallbacksApi, setup_callback_api
from callrouter.calls.records import recent_call_records
from callrouter.console.context import build_console
from callrouter.console.panels_appointments import AppointmentsPanel
from callrouter.console.panels_callbacks import CALLBACKS as CALLBACKS_TOPIC
from callrouter.console.panels_callbacks import CallbacksPanel
from callrouter.console.panels_callbacks_source import callbacks_source
from callrouter.console.panels_oncall import OnCallPanel
from callrouter.console.routes import setup_console
from callrouter.db.driver import is_postgres
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.hotpool import HotPool
from callrouter.heap import settle_heap
from callrouter.http.api import setup_http_api
from callrouter.http.errors import error_middleware
from callrouter.http.ops import OpsContext, setup_ops_routes
from callrouter.identity.callerindex import CallerIndex
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService
from callrouter.ledger.service import LedgerService
from callrouter.live.state import LiveState
from callrouter.metrics.http import setup_metrics
from callrouter.metrics.registry import HotlineMetrics
from callrouter.oncall.context import OnCallApi
from callrouter.oncall.escalation_store import EscalationStore
from callrouter.oncall.routes import setup_oncall_routes
from callrouter.oncall.service import RosterService
from callrouter.oncall.tracking import EscalationTracker
from callrouter.server.callbacks import callbacks_context
from callrouter.server.database import database_context
from callrouter.server.hotline import ENGINE, HOTLINE, Hotline, PBXLink
from callrouter.server.routing import pbx_context

# The app's assembly, and what bench/ and the commands import from here.
__all__ = ["ENGINE", "HOTLINE", "Hotline", "PBXLink", "build_app", "serve_until_stopped"]

log = structlog.get_logger(__name__)

#: How many unanswered emergencies /api/oncall lists at most.
_UNANSWERED_SHOWN = 50


def build_app(hotline: Hotline, *, extra_contexts: Sequence[Any] = ()) -> web.Application:
    """The HTTP app whose life carries the whole hotline.

    `extra_contexts` run between the database and the PBX link (the demo's simulator).
    """
    app = web.Application(middlewares=[error_middleware])
    app[HOTLINE] = hotline
    # Creating an engine opens no connection: the schema is upgraded when the app starts.
    engine = create_engine(hotline.database_url)
    app[ENGINE] = engine
    sessions = session_factory(engine)
    hotline.sessions = sessions
    if is_postgres(engine):
        hotline.hot_pool = HotPool(engine, hotline.config.database.hot_pool_size)
        hotline.callers = CallerIndex(hotline.hot_pool)
    hotline.identity = IdentityService(
        sessions,
        hotline.clock,
        hasher=CodeHasher(pin_pepper=hotline.pin_pepper),
        hot_pool=hotline.hot_pool,
        callers=hotline.callers,
    )
    hotline.ledger = LedgerService(sessions, hotline.clock, hotline.config.ledger)
    app.cleanup_ctx.append(database_context)
    app.cleanup_ctx.extend(extra_contexts)
    app.cleanup_ctx.append(pbx_context)
    app.cleanup_ctx.append(callbacks_context)
    live = LiveState(hotline.clock)
    hotline.live = live
    _setup_console_and_metrics(app, hotline, live)
    setup_ops_routes(
        app,
        OpsContext(
            live=live,
            clock=hotline.clock,
            ami_connected=lambda: hotline.ami is not None and hotline.ami.connected,
            recent_decisions=lambda limit: _recent_decisions(hotline, limit),
        ),
    )
    setup_http_api(app, timezone=hotline.config.calendar_settings.timezone)
    setup_account_api(
        app,
        sessions=sessions,
        clock=hotline.clock,
        secret=hotline.api_secret,
        ledger_config=hotline.config.ledger,
    )
    config = hotline.config
    hotline.experts, hotline.appointments = build_services(
        sessions,
        hotline.clock,
        config.calendar(),
        config.experts,
        config.appointments,
        config.ledger,
        hotline.callback_alerts,
    )
    setup_appointment_api(
        app,
        directory=hotline.experts,
        service=hotline.appointments,
        live=live,
        clock=hotline.clock,
    )
    hotline.oncall = RosterService(sessions, hotline.clock, hotline.config.calendar().on_call)
    if hotline.console is not None:
        hotline.console.register_polled(
            AppointmentsPanel(hotline.appointments.find, config.calendar_settings.timezone)
        )
    oncall = hotline.config.oncall
    tracker = EscalationTracker(hotline.config.routing_policy().oncall_queue, oncall.escalation)
    if hotline.console is not None:
        hotline.console.register_polled(OnCallPanel(hotline.oncall.roster, tracker.live))
    store = EscalationStore(sessions)
    hotline.escalations, hotline.escalation_store = tracker, store
    setup_oncall_routes(
        app,
        OnCallApi(
            roster=hotline.oncall,
            clock=hotline.clock,
            feed_base_url=oncall.feed_base_url,
            feed_days_back=oncall.feed_days_back,
            feed_days_ahead=oncall.feed_days_ahead,
            escalations=tracker.live,
            unanswered=lambda since: store.unanswered(since, _UNANSWERED_SHOWN),
        ),
    )
    callbacks = hotline.config.callbacks
    hotline.callback_openings = CallbackOpenings(
        hotline.ledger,
        callbacks,
        hotline.config.calendar_settings.windows,
        flush_call_records=lambda: _flush_records(hotline),
        known_domains=lambda: {domain.key for domain in hotline.config.experts.domains},
    )
    setup_callback_api(
        app,
        CallbacksApi(
            openings=hotline.callback_openings,
            queries=CallbackQueries(engine, hotline.clock, callbacks.policy),
            clock=hotline.clock,
        ),
    )
    if hotline.console is not None:
        callbacks_panel = CallbacksPanel(
            callbacks_source(engine),
            config.calendar_settings.timezone,
            callbacks.policy.warn_before,
        )
        hotline.console.register_polled(callbacks_panel)
        hotline.console.alerts.add_source(callbacks_panel.alerts, CALLBACKS_TOPIC)
    return app


def _setup_console_and_metrics(app: web.Application, hotline: Hotline, live: LiveState) -> None:
    """The supervisors' console and /metrics, fed by the hooks below; both start after the
    PBX link's context and stop before it."""
    config, sessions = hotline.config, hotline.require_sessions()
    if config.metrics.enabled:
        metrics = HotlineMetrics()
        hotline.metrics = metrics
        hotline.on_routed.append(metrics.on_routed)
        hotline.on_failsafe.append(metrics.on_failsafe)
        metrics.watch_waiting(
            lambda: [(name, live.queue_load(name)[2]) for name in live.queue_names()]
        )
        setup_metrics(app, metrics, config.metrics, sessions)
    if config.console.enabled:
        console = build_console(
            config.console,
            live=live,
            clock=hotline.clock,
            timezone=config.calendar_settings.timezone,
            database=sessions,
        )
        hotline.console = console
        hotline.on_routed.append(console.watch.routed)
        hotline.on_failsafe.append(console.watch.failsafe)
        setup_console(app, console)


async def _flush_records(hotline: Hotline) -> None:
    if hotline.records is not None:
        await hotline.records.flush()


async def _recent_decisions(hotline: Hotline, limit: int) -> list[dict[str, Any]]:
    if hotline.sessions is None or hotline.records is None or limit == 0:
        return []
    await hotline.records.flush()
    async with hotline.sessions() as session:
        records = await recent_call_records(session, limit)
    return [record.to_dict() for record in records]


async def serve_until_stopped(app: web.Application, host: str, port: int) -> None:
    """Run the app until SIGINT/SIGTERM; then every cleanup context runs backwards."""
    import signal

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("http.listening", url=f"http://{host}:{port}")
        settle_heap()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
