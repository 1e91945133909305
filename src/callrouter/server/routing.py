"""The PBX link's cleanup context: the AMI client, the live view's sync, the router and
where its decisions go (the demo's lines, the observers, the call records and their
reconciliation after every login), the on-call members programmed on the PBX."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from callrouter.ami.client import AMIClient, reconnect_delays
from callrouter.ami.errors import AMIConnectionError, AMIError, AMILoginError
from callrouter.ami.message import Message
from callrouter.calendar import is_open
from callrouter.calls.reconcile import failsafe_record
from callrouter.calls.records import CallOutcome, CallRecordData
from callrouter.calls.recovery import reconcile_records
from callrouter.clock import Clock, SimulatedClock
from callrouter.console.context import attach_pbx
from callrouter.live.state import LiveState
from callrouter.live.sync import LiveSync
from callrouter.oncall.programming import MemberProgrammer
from callrouter.routing.decision import COORDINATORS_WINDOW, ON_CALL_WINDOW, QueueLoad
from callrouter.routing.service import HotlineFailsafe, RoutedCall, Router
from callrouter.server.adapters import IdentityDirectory, LedgerWallet
from callrouter.server.hotline import HOTLINE, Hotline, PBXLink

log = structlog.get_logger(__name__)

#: How often pending holds are checked against their maximum age between AMI logins.
_HOLD_SWEEP_INTERVAL_S = 60.0
#: How many decision lines the demo screen keeps.
_RECENT_LINES = 8


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
