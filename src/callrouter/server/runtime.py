"""The running hotline: each long-lived resource is an aiohttp cleanup context.

Order matters and is the order of `cleanup_ctx`: the database first, then (in the demo)
the PBX simulator, then the PBX link with the live view and the router, then the demo's
screen. Shutdown runs them backwards, so no task outlives what it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.accounts.api import setup_account_api
from callrouter.ami.client import AMIClient, reconnect_delays
from callrouter.ami.errors import AMIConnectionError, AMIError, AMILoginError
from callrouter.ami.message import Message
from callrouter.appointments.api import build_services, setup_appointment_api
from callrouter.appointments.service import AppointmentService
from callrouter.appointments.slotcalls import AppointmentStates
from callrouter.calendar import is_open
from callrouter.callbacks.alerts import CallbackAlerts
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.gauges import CallbackGauges
from callrouter.callbacks.opening import CallbackOpenings
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.placing import AttemptResult, CallPlacer, ResultHandler
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.routes import CallbacksApi, setup_callback_api
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.calls.journal import RecordJournal, journal_directory
from callrouter.calls.reconcile import failsafe_record
from callrouter.calls.records import CallOutcome, CallRecordData, recent_call_records
from callrouter.calls.recovery import reconcile_records
from callrouter.calls.replay import replay_journal
from callrouter.calls.writer import CallRecordWriter
from callrouter.clock import Clock, SimulatedClock
from callrouter.config import Config
from callrouter.console.context import Console, attach_pbx, build_console
from callrouter.console.panels_appointments import AppointmentsPanel
from callrouter.console.panels_callbacks import CALLBACKS as CALLBACKS_TOPIC
from callrouter.console.panels_callbacks import CallbacksPanel
from callrouter.console.panels_callbacks_source import callbacks_source
from callrouter.console.panels_oncall import OnCallPanel
from callrouter.console.routes import setup_console
from callrouter.db.driver import is_postgres
from callrouter.db.engine import create_engine, session_factory
from callrouter.db.hotpool import HotPool
from callrouter.db.migrate import upgrade_async
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.presence import free_experts
from callrouter.heap import settle_heap
from callrouter.http.api import setup_http_api
from callrouter.http.errors import error_middleware
from callrouter.http.ops import OpsContext, setup_ops_routes
from callrouter.identity.callerindex import CallerIndex
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService
from callrouter.ledger.service import LedgerService
from callrouter.live.state import LiveState
from callrouter.live.sync import LiveSync
from callrouter.metrics.http import setup_metrics
from callrouter.metrics.registry import HotlineMetrics
from callrouter.oncall.context import OnCallApi
from callrouter.oncall.escalation_store import EscalationStore
from callrouter.oncall.programming import MemberProgrammer
from callrouter.oncall.routes import setup_oncall_routes
from callrouter.oncall.service import RosterService
from callrouter.oncall.tracking import EscalationTracker
from callrouter.routing.decision import COORDINATORS_WINDOW, ON_CALL_WINDOW, QueueLoad
from callrouter.routing.service import HotlineFailsafe, RoutedCall, Router
from callrouter.server.adapters import IdentityDirectory, LedgerWallet

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PBXLink:
    host: str
    port: int
    username: str
    secret: str


@dataclass
class Hotline:
    """What the running hotline is made of; filled in as the cleanup contexts start."""

    config: Config
    database_url: str
    pbx: PBXLink
    clock: Clock
    api_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: Mixed into PIN hashes (identity/pepper.py); None hashes PINs unpeppered (tests).
    pin_pepper: bytes | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    identity: IdentityService | None = None
    ledger: LedgerService | None = None
    experts: ExpertDirectory | None = None
    appointments: AppointmentService | None = None
    ami: AMIClient | None = None
    live: LiveState | None = None
    router: Router | None = None
    records: CallRecordWriter | None = None
    #: PostgreSQL: the pool of the statements every call runs, open with the database.
    hot_pool: HotPool | None = None
    #: PostgreSQL: the callers recognised by caller ID, in memory (started with the pool).
    callers: CallerIndex | None = None
    oncall: RosterService | None = None
    escalations: EscalationTracker | None = None
    escalation_store: EscalationStore | None = None
    recent: list[str] = field(default_factory=list)
    #: Pass 4H: what supervisors are told, and the callbacks' dispatcher once started.
    callback_alerts: CallbackAlerts = field(default_factory=CallbackAlerts)
    callback_openings: CallbackOpenings | None = None
    callbacks: CallbackDispatcher | None = None
    #: Builds the PBX side of callbacks (the AMI Originate and its legs); without it the
    #: dispatcher dials nobody but still keeps deadlines, warnings and refunds.
    callback_placer: Callable[[AMIClient, ResultHandler], CallPlacer] | None = None
    console: Console | None = None
    metrics: HotlineMetrics | None = None
    #: Called with every routing decision and every fail-safe (console, metrics).
    on_routed: list[Callable[[RoutedCall], None]] = field(default_factory=list)
    on_failsafe: list[Callable[[str], None]] = field(default_factory=list)

    def require_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self.sessions is None:
            raise RuntimeError("the database context has not started")
        return self.sessions


HOTLINE = web.AppKey("hotline", Hotline)
ENGINE = web.AppKey("engine", AsyncEngine)

#: How often pending holds are checked against their maximum age between AMI logins.
_HOLD_SWEEP_INTERVAL_S = 60.0
#: How many decision lines the demo screen keeps.
_RECENT_LINES = 8
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


async def database_context(app: web.Application) -> AsyncIterator[None]:
    hotline, engine = app[HOTLINE], app[ENGINE]
    await upgrade_async(hotline.database_url)
    log.info("database.ready", url=engine.url.render_as_string(hide_password=True))
    hot_pool = hotline.hot_pool
    if hot_pool is not None:
        await hot_pool.open()
    callers = hotline.callers
    if callers is not None:
        await callers.start()
    # Before routing begins, and before any reconciliation could recover the same calls.
    journal = RecordJournal(
        journal_directory(hotline.config.database.journal_dir, hotline.database_url)
    )
    try:
        await replay_journal(engine, journal, journal.open())
    except BaseException:
        journal.close()
        raise
    records = CallRecordWriter(engine, hot_pool=hot_pool, journal=journal)
    records.start()
    hotline.records = records
    try:
        yield
    finally:
        try:
            try:
                await records.close()
            finally:
                journal.close()
        finally:
            try:
                if callers is not None:
                    await callers.close()
                if hot_pool is not None:
                    await hot_pool.close()
            finally:
                await engine.dispose()


async def pbx_context(app: web.Application) -> AsyncIterator[None]:
    hotline = app[HOTLINE]
    live = hotline.live
    assert live is not None and hotline.identity is not None and hotline.ledger is not None
    ami_settings = hotline.config.ami
    client = AMIClient(
        hotline.pbx.host,
        hotline.pbx.port,
        hotline.pbx.username,
        hotline.pbx.secret,
        ping_interval=ami_settings.ping_interval,
        reconnect_max_delay=ami_settings.reconnect_max_delay,
    )
    hotline.ami = client
    policy = hotline.config.routing_policy()
    oncall = hotline.config.oncall
    calendar = hotline.config.calendar()
    routed_queues = (policy.coordinators_queue, policy.oncall_queue)
    router = Router(
        pbx=client,
        directory=IdentityDirectory(hotline.identity),
        wallet=LedgerWallet(
            hotline.ledger,
            calendar.on_call,
            timedelta(minutes=oncall.emergency_attach_minutes)
            if oncall.emergency_attach_minutes
            else None,
        ),
        calendar=calendar,
        policy=policy,
        clock=hotline.clock,
        queue_loads=lambda: _queue_loads(live, routed_queues),
        record=lambda routed: _record(hotline, routed),
        record_failsafe=lambda failsafe: _record_failsafe(hotline, failsafe),
        max_hold_age=timedelta(minutes=oncall.max_hold_minutes),
        store_first=lambda routed: _record_first(hotline, routed),
        read_at=lambda: client.read_at,
    )
    hotline.router = router
    assert router.billing is not None
    sweeps = asyncio.create_task(router.billing.run_sweeps(_HOLD_SWEEP_INTERVAL_S))
    if hotline.metrics is not None:
        hotline.metrics.watch_ami(lambda: (client.connected, client.stats.reconnects))
    if hotline.console is not None:
        attach_pbx(hotline.console, client)
    sync = LiveSync(client, live, resync_interval=ami_settings.queue_resync_interval)
    tracker, store = hotline.escalations, hotline.escalation_store
    assert tracker is not None and store is not None and hotline.oncall is not None
    clock = hotline.clock
    programmer = MemberProgrammer(
        client,
        hotline.oncall.roster,
        clock,
        queue=policy.oncall_queue,
        recheck=hotline.config.oncall.roster_recheck_seconds,
        sleep=_clock_sleep(clock),
        on_status=lambda items: store.add(tracker.resync(items, clock.now())),
    )

    def follow_escalations(event: Message) -> None:
        if tracker.reads(event.name):
            store.add(tracker.on_event(event, clock.now()))

    unsubscribe = [
        *sync.attach(),
        client.subscribe(router.on_event),
        client.subscribe_urgent("UserEvent", router.take_call),
        client.subscribe(follow_escalations),
        client.on_connected(lambda: _reconcile_records(hotline, client, router)),
        client.on_connected(lambda: _program_members(programmer)),
    ]
    sync.start()
    store.start()
    first_link = asyncio.create_task(_connect_until_up(client, hotline.pbx))
    # At each hand-off; the members are also set after every login (above).
    programming = asyncio.create_task(programmer.run(), name="oncall-members")
    try:
        yield
    finally:
        for task in (first_link, sweeps, programming):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for undo in unsubscribe:
            undo()
        await sync.close()
        await router.close()
        await client.close()
        await store.close()


async def _program_members(programmer: MemberProgrammer) -> None:
    try:
        await programmer.program()
    except AMIError:
        raise  # the client logs it: the link dropped again
    except Exception:
        # The database is away: the hand-off timer tries again.
        log.exception("oncall.members_not_programmed")


def _clock_sleep(clock: Clock) -> Callable[[float], Awaitable[None]]:
    """Sleeps `seconds` of the hotline's clock (the demo's runs faster than real time)."""
    speed = clock.speed if isinstance(clock, SimulatedClock) else 1.0
    return lambda seconds: asyncio.sleep(seconds / speed)


async def callbacks_context(app: web.Application) -> AsyncIterator[None]:
    """The callbacks' dispatcher: after the PBX link, which it places calls through."""
    hotline, engine = app[HOTLINE], app[ENGINE]
    live, openings, directory = hotline.live, hotline.callback_openings, hotline.experts
    assert live is not None and openings is not None and directory is not None
    # The experts are the members of their queue; presence comes from the PBX's view.
    queue = hotline.config.experts.queue
    config, clock = hotline.config.callbacks, hotline.clock
    dispatcher: CallbackDispatcher | None = None

    async def on_result(result: AttemptResult) -> None:
        assert dispatcher is not None
        await dispatcher.on_result(result)

    placer = None
    if hotline.callback_placer is not None and hotline.ami is not None:
        placer = hotline.callback_placer(hotline.ami, on_result)
    callback_engine = CallbackEngine(
        engine,
        clock,
        config,
        placer,
        experts=directory.all,
        free_experts=lambda experts, now: free_experts(experts, live, now, queue),
        alerts=hotline.callback_alerts,
        follower=AppointmentStates(),
    )
    dispatcher = CallbackDispatcher(engine, clock, config, callback_engine)
    hotline.callbacks = dispatcher
    openings.opened = dispatcher.opened
    undo = [live.on_change(dispatcher.nudge)]
    if hotline.ami is not None:
        undo.append(hotline.ami.on_connected(dispatcher.reconnected))
    gauges = None
    if hotline.metrics is not None:
        queries = CallbackQueries(engine, clock, config.policy)
        gauges = CallbackGauges(queries, hotline.metrics)
        gauges.start()
    dispatcher.start()
    try:
        yield
    finally:
        for unsubscribe in undo:
            unsubscribe()
        openings.opened = lambda callback_id: None
        await dispatcher.close()
        if isinstance(placer, AMIPlacer):
            await placer.close()  # its results still being delivered
        if gauges is not None:
            await gauges.close()


async def _flush_records(hotline: Hotline) -> None:
    if hotline.records is not None:
        await hotline.records.flush()


async def _connect_until_up(client: AMIClient, pbx: PBXLink) -> None:
    """The first connection: the PBX may start after us. Refused credentials are final.

    Once connected, the client keeps the link up by itself.
    """
    for delay in reconnect_delays(0.5, 30.0):
        try:
            await client.connect()
        except AMILoginError as error:
            log.error("ami.login_refused", host=pbx.host, port=pbx.port, error=str(error))
            return
        except AMIConnectionError as error:
            log.warning(
                "ami.unreachable", host=pbx.host, port=pbx.port, error=str(error), retry_in=delay
            )
            await asyncio.sleep(delay)
            continue
        return


def _queue_loads(live: LiveState, names: Sequence[str]) -> Mapping[str, QueueLoad]:
    # Only the queues the router sends callers to, and counts only: building full views
    # of long queues on every call would cost the caller milliseconds.
    loads: dict[str, QueueLoad] = {}
    for name in names:
        if live.knows_queue(name):
            members, available, waiting = live.queue_load(name)
            loads[name] = QueueLoad(members=members, available=available, waiting=waiting)
    return loads


async def _record(hotline: Hotline, routed: RoutedCall) -> None:
    decision = routed.decision
    hotline.recent.append(
        f"{hotline.clock.now().astimezone(hotline.config.calendar_settings.timezone):%H:%M:%S} "
        f"{routed.call.caller_id or '?':<12} {decision.window:<12} "
        f"{routed.chosen_pass.value if routed.chosen_pass else '-':<11} -> {decision.target.value}"
        f"{' (' + decision.reason + ')' if decision.reason else ''}"
    )
    del hotline.recent[:-_RECENT_LINES]
    for observer in hotline.on_routed:
        observer(routed)
    assert hotline.records is not None
    if routed.stored:
        hotline.records.set_outcome(
            CallOutcome(
                uniqueid=routed.call.uniqueid,
                decided_at=routed.decided_at,
                target=routed.decision.target.value,
                redirected=routed.redirected,
                error=routed.error,
                latency_ms=routed.latency_ms,
            )
        )
    else:
        hotline.records.add(_record_data(routed))


def _record_first(hotline: Hotline, routed: RoutedCall) -> asyncio.Future[None] | None:
    """A message's record, before its Redirect; `_record` completes it."""
    assert hotline.records is not None
    return hotline.records.add_durable(_record_data(routed))


async def _record_failsafe(hotline: Hotline, failsafe: HotlineFailsafe) -> None:
    for observer in hotline.on_failsafe:
        observer(failsafe.uniqueid)
    assert hotline.records is not None
    now = hotline.clock.now()
    hotline.records.add_failsafe(
        failsafe_record(
            channel=failsafe.channel,
            uniqueid=failsafe.uniqueid,
            linkedid=failsafe.linkedid,
            caller_id=failsafe.caller_id,
            queue=hotline.config.routing_policy().coordinators_queue,
            arrived_at=None,
            now=now,
            window=_window(hotline, now),
            waited_ms=failsafe.waited * 1000.0,
            reconciled=False,
        )
    )


def _record_data(routed: RoutedCall) -> CallRecordData:
    call, decision = routed.call, routed.decision
    return CallRecordData(
        channel=call.channel,
        uniqueid=call.uniqueid,
        linkedid=call.linkedid,
        caller_id=call.caller_id,
        account_number=routed.caller.account_number,
        caller_status=routed.caller.status.value,
        chosen_pass=routed.chosen_pass.value if routed.chosen_pass else None,
        window=decision.window,
        target=decision.target.value,
        queue=decision.queue,
        queue_priority=decision.queue_priority,
        reason=decision.reason,
        arrived_at=call.arrived_at,
        decided_at=routed.decided_at,
        latency_ms=routed.latency_ms,
        failsafe=False,
        redirected=routed.redirected,
        error=routed.error,
    )


async def _reconcile_records(hotline: Hotline, client: AMIClient, router: Router) -> None:
    """After every login (start-up included): records for the calls the PBX holds that
    have none (fail-safe, or lost when the router died), corrections for Redirects whose
    answer the link lost, and the emergency holds whose events the link may have lost."""
    records, sessions = hotline.records, hotline.require_sessions()
    assert records is not None

    async def settle() -> None:
        await router.settle()
        await records.flush()

    # Taken now, right after the login: the holds placed from here on are not judged
    # against a channel list that may be older than their calls.
    resolve_holds = None if router.billing is None else router.billing.resolver()

    try:
        await reconcile_records(
            client,
            sessions,
            now=hotline.clock.now,
            window=lambda at: _window(hotline, at),
            policy=hotline.config.routing_policy(),
            settle=settle,
            resolve_holds=resolve_holds,
        )
    except AMIError:
        raise  # the client logs it: the link dropped again
    except Exception:
        # The database is away: the next login tries again.
        log.exception("calls.reconcile_failed")


def _window(hotline: Hotline, at: datetime) -> str:
    coordinators = hotline.config.calendar().coordinators
    return COORDINATORS_WINDOW if is_open(coordinators, at) else ON_CALL_WINDOW


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
