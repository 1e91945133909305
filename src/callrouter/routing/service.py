"""The router at work: a HotlineCall event in, a Redirect out, a call record kept.

Data flows one way: the AMI event is parsed, the caller identified, the pure `decide`
function picks the target, the decision is carried out with `Setvar` + `Redirect` on the
held channel, and only then is it logged and stored, off the caller's path. A message
(refusal, closed hours, insufficient balance) is the exception: its record is made durable
before the Redirect (journaled on local disk, or else committed), as the call ends within
seconds and a router killed meanwhile would find nothing left on the PBX to recover the
record from.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from callrouter.ami.errors import AMIActionError
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import Clock
from callrouter.eager import start_eagerly
from callrouter.errors import CallrouterError
from callrouter.passes import Pass
from callrouter.routing.billing import ChargeKind, EmergencyBilling, HoldWallet
from callrouter.routing.decision import (
    MESSAGE_CONTEXT,
    Caller,
    QueueLoad,
    RoutingDecision,
    RoutingPolicy,
    Target,
    decide,
    joining_incident,
    pass_from_digit,
    with_hold,
)

log = structlog.get_logger(__name__)

#: Targets that start a paid service: the balance is checked before sending the caller.
_PAID_TARGETS = frozenset({Target.COORDINATORS_QUEUE, Target.ONCALL_QUEUE})
#: What a message's record says until the PBX answers its Redirect (and for good, when
#: the router died before the answer came).
UNANSWERED = "no answer to the Redirect on file: the router stopped before the PBX answered"


@dataclass(frozen=True)
class HotlineCall:
    """What the dialplan's `UserEvent(HotlineCall)` tells about a held caller."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    caller_name: str
    account: str
    pin: str
    pass_digit: str
    attempt: int
    arrived_at: datetime | None


def parse_hotline_call(event: Message) -> HotlineCall:
    """Read the contract headers; a header missing or garbled gets a safe default."""
    headers = event.fields()

    def header(name: str) -> str:
        value = headers.get(name)
        # Our dialplan spells its headers exactly; another case is still read.
        return value if value is not None else event.get(name) or ""

    arrival_text = header("Arrival")
    try:
        arrived_at: datetime | None = datetime.fromtimestamp(float(arrival_text), UTC)
    except (ValueError, OverflowError, OSError):
        arrived_at = None
    return HotlineCall(
        channel=header("Channel"),
        uniqueid=header("Uniqueid"),
        linkedid=header("Linkedid"),
        caller_id=(header("Caller") or header("CallerIDNum")).strip(),
        caller_name=header("CallerName").strip(),
        account=header("Account").strip(),
        pin=header("Pin").strip(),
        pass_digit=header("Pass").strip(),
        attempt=_attempt(header("Attempt")),
        arrived_at=arrived_at,
    )


def hotline_call_key(event: Message) -> tuple[str, int]:
    """The call attempt a HotlineCall announces (uniqueid, attempt), read without the rest."""
    return event.get("Uniqueid") or "", _attempt(event.get("Attempt") or "")


def _attempt(text: str) -> int:
    return max(int(text), 1) if text.isdigit() else 1


@dataclass(frozen=True)
class HotlineFailsafe:
    """The dialplan's `UserEvent(HotlineFailsafe)`: no Redirect came in time, it queued
    the caller to the coordinators by itself."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    #: Seconds the caller waited for the router (0 when garbled).
    waited: int


def parse_hotline_failsafe(event: Message) -> HotlineFailsafe:
    waited_text = (event.get("Waited") or "").strip()
    uniqueid = event.get("Uniqueid") or ""
    return HotlineFailsafe(
        channel=event.get("Channel") or "",
        uniqueid=uniqueid,
        linkedid=event.get("Linkedid") or uniqueid,
        caller_id=(event.get("Caller") or event.get("CallerIDNum") or "").strip(),
        waited=int(waited_text) if waited_text.isdigit() else 0,
    )


@dataclass(frozen=True)
class IdentifiedCaller:
    caller: Caller
    #: Points on the caller's account, read with the identification (None: not identified).
    balance: int | None = None


class CallerDirectory(Protocol):
    """Who is calling: a beneficiary's caller ID, or an account number and its PIN."""

    async def identify(self, caller_id: str, account: str, pin: str) -> IdentifiedCaller: ...


class Wallet(HoldWallet, Protocol):
    """The points account as the router sees it (the ledger behind it): prices, and the
    holds of emergency calls (routing/billing.py)."""

    def price(self, chosen_pass: Pass, emergency: bool) -> int | None:
        """Points the call's service costs at its standard level; None: not available."""
        ...


class PBXActions(Protocol):
    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> Sequence[Message | CallrouterError]:
        """Writes the actions in one go, before first suspending; answers in order."""
        ...


@dataclass(frozen=True)
class RoutedCall:
    """A decision as it is logged and stored."""

    call: HotlineCall
    caller: Caller
    chosen_pass: Pass | None
    decision: RoutingDecision
    decided_at: datetime
    latency_ms: float
    redirected: bool
    error: str | None
    #: The record was stored before the decision was carried out (a message): only the
    #: outcome (`redirected`, `error`, `latency_ms`) remains to be written.
    stored: bool = False


RecordSink = Callable[[RoutedCall], Awaitable[None]]
#: Hands a decision's record to the writer: None when it is durable at once (journaled),
#: else a future settled once it is committed.
StoreSink = Callable[[RoutedCall], asyncio.Future[None] | None]
FailsafeSink = Callable[[HotlineFailsafe], Awaitable[None]]
QueueLoads = Callable[[], Mapping[str, QueueLoad]]


class Router:
    """Handles HotlineCall events; every task it starts is owned and cancelled on close."""

    def __init__(
        self,
        *,
        pbx: PBXActions,
        directory: CallerDirectory,
        wallet: Wallet | None,
        calendar: HotlineCalendar,
        policy: RoutingPolicy,
        clock: Clock,
        queue_loads: QueueLoads,
        record: RecordSink,
        record_failsafe: FailsafeSink,
        max_hold_age: timedelta = timedelta(hours=4),
        store_first: StoreSink | None = None,
        store_wait: float = 1.0,
        read_at: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`store_first` makes a message's record durable before its Redirect; `store_wait`
        bounds how long (seconds) a caller waits for its commit when it could not be
        journaled: past it the message is played anyway and the record stays queued, as a
        database away must not keep callers on hold. `read_at` says when the bytes of the
        event being handled were read (time.perf_counter; the AMI client's `read_at`, right
        for the calls it hands out urgently, as `take_call` is in `serve`): the latency counts
        from there, the events handed out before it included."""
        self._pbx = pbx
        self._directory = directory
        self._wallet = wallet
        self._calendar = calendar
        self._policy = policy
        self._clock = clock
        self._queue_loads = queue_loads
        self._record = record
        self._record_failsafe_sink = record_failsafe
        self._store_first_sink = store_first
        self._store_wait = store_wait
        self._read_at = read_at
        self.billing: EmergencyBilling | None = (
            None
            if wallet is None
            else EmergencyBilling(
                wallet, clock, max_hold_age=max_hold_age, oncall_queue=policy.oncall_queue
            )
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: dict[tuple[str, int], None] = {}
        #: The latest decisions' latencies (UserEvent read to Redirect written).
        self.latencies_ms: deque[float] = deque(maxlen=100_000)

    def on_event(self, event: Message) -> None:
        """AMI subscriber, every event in order: holds follow their calls, fail-safes are
        recorded, and a HotlineCall not yet taken urgently is taken now."""
        if self.billing is not None:
            self.billing.on_event(event)
        if event.name != "UserEvent":
            return
        kind = event.get("UserEvent")
        if kind == "HotlineCall":
            self.take_call(event)
        elif kind == "HotlineFailsafe":
            # The dialplan gave up waiting for us and queued the caller itself: a decision
            # came too late or never. The record says so, for the supervisor.
            log.warning(
                "routing.failsafe",
                channel=event.get("Channel"),
                caller=event.get("Caller"),
                waited=event.get("Waited"),
            )
            failsafe = parse_hotline_failsafe(event)
            if failsafe.uniqueid:
                self._spawn(self._record_failsafe(failsafe))

    def take_call(self, event: Message) -> None:
        """A HotlineCall is routed at once up to its first wait (identifying the caller from
        memory, deciding and writing the Redirect take none); the rest goes on in an owned
        task. Given a call twice (urgently, then in order), it routes it once."""
        if event.get("UserEvent") != "HotlineCall":
            return
        received = self._read_at()
        key = hotline_call_key(event)
        if key in self._seen:
            # Taken already (urgently), or replayed after a reconnect by a proxy: one
            # decision per call attempt, never two Redirects.
            return
        call = parse_hotline_call(event)
        if not call.channel:
            return
        self._remember(key)
        # Now, not after the rest of what the reader holds (callrouter/eager.py).
        self._spawn(start_eagerly(self._route(call, received)))

    def _remember(self, key: tuple[str, int]) -> None:
        self._seen[key] = None
        if len(self._seen) > 10_000:
            # dicts keep insertion order: drop the oldest half.
            for old in list(self._seen)[:5_000]:
                del self._seen[old]

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Returns once every call received so far has been routed and recorded, and its
        hold moved as its events said."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.billing is not None:
            await self.billing.wait_idle()

    async def settle(self) -> None:
        """Returns once the calls received so far are routed and handed to the record
        sink (calls that arrive meanwhile are not waited for)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.billing is not None:
            await self.billing.close()

    async def _route(self, call: HotlineCall, received: float) -> None:
        chosen_pass = pass_from_digit(call.pass_digit, self._policy.pass_digits)
        error: str | None = None
        try:
            identified = await self._directory.identify(call.caller_id, call.account, call.pin)
        except Exception:
            # The database is away: routing without knowing the caller could refuse a
            # customer. Doing nothing is the designed fail-safe: the dialplan queues the
            # caller to the coordinators after HOTLINE_ROUTER_WAIT seconds.
            log.exception("routing.identify_failed", channel=call.channel, caller=call.caller_id)
            return
        caller = identified.caller
        now = self._clock.now()
        loads = self._queue_loads()
        decision = decide(
            now, self._calendar, caller, chosen_pass, call.attempt, loads, self._policy
        )
        held = False
        if (
            self._wallet is not None
            and decision.target in _PAID_TARGETS
            and identified.balance is not None
        ):
            if decision.target is Target.ONCALL_QUEUE and caller.account_number is not None:
                # The hold is the balance check: it counts what other calls hold, and a
                # further call of the night joins its incident even on an empty balance.
                decision, caller, held, error = await self._charge_emergency(
                    decision, caller, caller.account_number, call
                )
            else:
                price = self._wallet.price(chosen_pass or self._policy.default_pass, False)
                caller = replace(caller, can_pay=price is not None and identified.balance >= price)
            if caller.can_pay is False:
                decision = decide(
                    now, self._calendar, caller, chosen_pass, call.attempt, loads, self._policy
                )
        stored = decision.context == MESSAGE_CONTEXT and await self._store_first(
            RoutedCall(
                call=call,
                caller=caller,
                chosen_pass=chosen_pass,
                decision=decision,
                decided_at=now,
                latency_ms=(time.perf_counter() - received) * 1000.0,
                redirected=False,
                error=UNANSWERED,
            )
        )
        redirected, latency_ms, send_error, refused = await self._carry_out(
            call, decision, received
        )
        if held and refused and self.billing is not None:
            self.billing.redirect_refused(call.uniqueid)
        # A Redirect whose answer never came (link lost, timeout) leaves the hold pending:
        # whether it arrived is known from the PBX's channels at the next login.
        self.latencies_ms.append(latency_ms)
        routed = RoutedCall(
            call=call,
            caller=caller,
            chosen_pass=chosen_pass,
            decision=decision,
            decided_at=now,
            latency_ms=latency_ms,
            redirected=redirected,
            error=send_error or error,
            stored=stored,
        )
        log.info(
            "routing.decision",
            channel=call.channel,
            caller=call.caller_id,
            account=caller.account_number,
            identified=caller.status.value,
            window=decision.window,
            chosen_pass=chosen_pass.value if chosen_pass else None,
            target=decision.target.value,
            queue=decision.queue,
            priority=decision.queue_priority,
            reason=decision.reason,
            heard=decision.message_fr,
            latency_ms=round(latency_ms, 3),
            redirected=redirected,
            error=routed.error,
        )
        try:
            await self._record(routed)
        except Exception:
            # The caller is already on their way; a record that cannot be written (database
            # down) is logged in full rather than lost silently in a task.
            log.exception("routing.record_failed", channel=call.channel)

    async def _store_first(self, pending: RoutedCall) -> bool:
        """Whether the record is with the writer (journaled, committed, or still queued if
        the database is slow). Journaled, it costs a message's caller one local write;
        queued callers never come here."""
        if self._store_first_sink is None:
            return False
        try:
            committed = self._store_first_sink(pending)
        except Exception:
            log.exception("routing.record_failed", channel=pending.call.channel)
            return False
        if committed is None:
            return True
        # asyncio.wait, not wait_for: the future is shared by the writer's whole batch and
        # must not be cancelled by one caller's timeout.
        done, _ = await asyncio.wait({committed}, timeout=self._store_wait)
        if not done:
            log.warning(
                "routing.record_not_committed",
                channel=pending.call.channel,
                waited_s=self._store_wait,
            )
        return True

    async def _record_failsafe(self, failsafe: HotlineFailsafe) -> None:
        try:
            await self._record_failsafe_sink(failsafe)
        except Exception:
            log.exception("routing.record_failed", uniqueid=failsafe.uniqueid)

    async def _charge_emergency(
        self, decision: RoutingDecision, caller: Caller, account_number: str, call: HotlineCall
    ) -> tuple[RoutingDecision, Caller, bool, str | None]:
        """The decision with its hold, or joining the night's incident; the caller who
        cannot pay marked so. Returns (decision, caller, held, error)."""
        assert self.billing is not None
        try:
            charge = await self.billing.hold(account_number, call.uniqueid)
        except CallrouterError as exc:
            # The ledger refused for another reason than the balance: the caller is
            # served, not billed, and the record says so.
            log.error("routing.emergency_hold_failed", account=account_number, error=str(exc))
            return decision, caller, False, f"emergency hold not placed: {exc}"
        if charge.kind is ChargeKind.INSUFFICIENT:
            return decision, replace(caller, can_pay=False), False, None
        caller = replace(caller, can_pay=True)
        if charge.kind is ChargeKind.JOINED and charge.incident_id is not None:
            return joining_incident(decision, charge.incident_id), caller, False, None
        assert charge.hold_id is not None
        return with_hold(decision, charge.hold_id), caller, True, None

    async def _carry_out(
        self, call: HotlineCall, decision: RoutingDecision, received: float
    ) -> tuple[bool, float, str | None, bool]:
        """Setvar each variable then Redirect, pipelined in one write. Returns (redirected,
        latency, error, refused): refused when the PBX itself answered the Redirect with an
        error, so the caller certainly did not move."""
        actions: list[tuple[str, Sequence[tuple[str, str]]]] = [
            ("Setvar", (("Channel", call.channel), ("Variable", name), ("Value", value)))
            for name, value in decision.variables
        ]
        actions.append(
            (
                "Redirect",
                (
                    ("Channel", call.channel),
                    ("Context", decision.context),
                    ("Exten", decision.exten),
                    ("Priority", str(decision.priority)),
                ),
            )
        )
        # send_actions writes before it first suspends: this is when the Redirect leaves.
        latency_ms = (time.perf_counter() - received) * 1000.0
        try:
            answers = await self._pbx.send_actions(actions)
        except CallrouterError as exc:
            return False, latency_ms, str(exc), False
        errors = [str(answer) for answer in answers if isinstance(answer, CallrouterError)]
        if errors:
            # The caller hung up meanwhile: nothing to route any more. (A caller still
            # there whose Redirect failed is queued by the dialplan's fail-safe.)
            return False, latency_ms, "; ".join(errors), isinstance(answers[-1], AMIActionError)
        return True, latency_ms, None, False
