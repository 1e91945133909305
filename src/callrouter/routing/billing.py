"""Emergency billing on the live path: a hold at routing, posted or voided by the PBX's word.

The router holds the emergency price when it sends a caller to on-call (or joins the
account's emergency incident of the night). Then, from the AMI events:
- `UserEvent(OnCallConfirmed)`, emitted on the caller's side when a technician pressed the
  confirmation key (the on-call contract), posts the hold: the incident opens, debited once;
- the caller's Hangup or QueueCallerAbandon before that voids it, as does a Redirect the PBX
  refused or the dialplan's fail-safe (the Redirect never came: the caller went to the
  coordinators);
- after every AMI login the pending holds are resolved from the channel list the record
  reconciliation reads anyway (events may have been lost while the link was down), and a
  hold older than any real wait is voided (the safety net).
The moves of one call run in the order their events came, so a hang-up after the
confirmation never overtakes it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from callrouter.ami.message import Message
from callrouter.calls.reconcile import placed_channel
from callrouter.clock import Clock
from callrouter.ledger.hold_rules import CallerOnPBX, Resolution, resolve

log = structlog.get_logger(__name__)

CONFIRMED_EVENT = "OnCallConfirmed"
#: The dialplan queued the caller to the coordinators itself: the Redirect never came.
FAILSAFE_EVENT = "HotlineFailsafe"
#: Events that end a caller's wait without a technician, and what the hold says of them.
_LEFT_REASONS = {
    "Hangup": "caller hung up before a technician confirmed",
    "QueueCallerAbandon": "caller left the on-call queue unserved",
}
_LEFT_EVENTS = frozenset(_LEFT_REASONS)
_FAILSAFE_REASON = "the fail-safe queued the caller to the coordinators"


class ChargeKind(enum.Enum):
    #: The price is held until a technician confirms.
    HELD = "held"
    #: The call joins the account's emergency incident of the night: no cost, no hold.
    JOINED = "joined"
    #: The spendable points cannot cover the emergency price.
    INSUFFICIENT = "insufficient"


@dataclass(frozen=True)
class EmergencyCharge:
    kind: ChargeKind
    hold_id: int | None = None
    incident_id: int | None = None


@dataclass(frozen=True)
class PendingCallHold:
    call: str
    placed_at: datetime


class HoldWallet(Protocol):
    """The ledger's holds as the router uses them, by the caller's channel Uniqueid."""

    async def hold_emergency(self, account_number: str, call: str) -> EmergencyCharge: ...

    async def post_hold(self, call: str, detail: str) -> bool:
        """True when the hold was posted now (False: already final, or none)."""
        ...

    async def void_hold(self, call: str, reason: str) -> bool: ...

    async def pending_holds(self) -> Sequence[PendingCallHold]: ...


@dataclass(frozen=True)
class Confirmation:
    caller_uniqueid: str
    hold: str
    technician: str


def parse_confirmation(event: Message) -> Confirmation:
    return Confirmation(
        caller_uniqueid=(event.get("CallerUniqueid") or "").strip(),
        hold=(event.get("Hold") or "").strip(),
        technician=(event.get("Technician") or "").strip(),
    )


def callers_on_pbx(items: Iterable[Message], oncall_queue: str) -> dict[str, CallerOnPBX]:
    """CoreShowChannels items -> the callers who may still reach on-call, by Uniqueid: those
    in (or talking from) the on-call queue, and those not placed yet (still waiting for the
    Redirect: their hang-up or fail-safe event will come). A caller placed anywhere else
    (the fail-safe's coordinators queue, a message) will not be served by on-call: for
    billing it has left."""
    found: dict[str, CallerOnPBX] = {}
    for item in items:
        uniqueid = item.get("Uniqueid") or ""
        placed = placed_channel(item)
        if placed is None:
            found.setdefault(uniqueid, CallerOnPBX(present=True, bridged=False))
        elif placed.queue == oncall_queue:
            found[uniqueid] = CallerOnPBX(
                present=True, bridged=bool((item.get("BridgeId") or "").strip())
            )
    return found


_GONE = CallerOnPBX(present=False, bridged=False)


class EmergencyBilling:
    """Owns the pending holds of the calls it saw and every task it starts."""

    def __init__(
        self, wallet: HoldWallet, clock: Clock, *, max_hold_age: timedelta, oncall_queue: str
    ) -> None:
        self._wallet = wallet
        self._clock = clock
        self._max_hold_age = max_hold_age
        self._oncall_queue = oncall_queue
        #: Calls with a pending hold, by the caller's Uniqueid: a Hangup of anyone else
        #: costs no database round trip.
        self._pending: dict[str, None] = {}
        #: The holds this process placed, numbered in order: a login's resolution leaves
        #: alone those placed after it began (their events come on the new link, and their
        #: channels may be newer than the channel list).
        self._placed_order: dict[str, int] = {}
        self._placed_count = 0
        #: The latest move of each call: the next one waits for it.
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending_calls(self) -> frozenset[str]:
        return frozenset(self._pending)

    async def hold(self, account_number: str, call: str) -> EmergencyCharge:
        charge = await self._wallet.hold_emergency(account_number, call)
        if charge.kind is ChargeKind.HELD:
            self._pending[call] = None
            self._placed_count += 1
            self._placed_order[call] = self._placed_count
        return charge

    def redirect_refused(self, call: str) -> None:
        """The PBX answered the Redirect with an error: the caller never reached on-call."""
        self._move(call, lambda: self._void(call, "redirect refused by the PBX"))

    def on_event(self, event: Message) -> None:
        """AMI subscriber: cheap and synchronous; moves run in owned tasks, in order."""
        if event.name == "UserEvent" and event.get("UserEvent") == CONFIRMED_EVENT:
            confirmation = parse_confirmation(event)
            if confirmation.caller_uniqueid and confirmation.hold:
                call = confirmation.caller_uniqueid
                # Confirmed: the caller's later hang-up has nothing left to void.
                self._pending.pop(call, None)
                self._move(call, lambda: self._post(call, confirmation))
        elif event.name in _LEFT_EVENTS or (
            event.name == "UserEvent" and event.get("UserEvent") == FAILSAFE_EVENT
        ):
            uniqueid = event.get("Uniqueid") or ""
            if uniqueid in self._pending:
                reason = _LEFT_REASONS.get(event.name, _FAILSAFE_REASON)
                self._move(uniqueid, lambda: self._void(uniqueid, reason))

    def resolver(self) -> Callable[[Sequence[Message]], Awaitable[None]]:
        """Taken right after a login, before the channel list is read: resolves the pending
        holds placed until then against that list."""
        placed_before = self._placed_count
        return lambda channels: self._resolve_after_login(channels, placed_before)

    async def _resolve_after_login(self, channels: Sequence[Message], placed_before: int) -> None:
        """Every pending hold against the PBX's channel list (read once per login by the
        record reconciliation): a confirmation or a hang-up may have been lost with the
        link, or with the process."""
        on_pbx = callers_on_pbx(channels, self._oncall_queue)
        await self._resolve_all(
            lambda call: on_pbx.get(call, _GONE),
            skip=lambda call: self._placed_order.get(call, 0) > placed_before,
        )

    async def sweep(self) -> None:
        """The safety net between logins: only holds past the maximum age move."""
        await self._resolve_all(
            lambda call: CallerOnPBX(present=True, bridged=False), skip=lambda call: False
        )

    async def run_sweeps(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("billing.sweep_failed")

    async def _resolve_all(
        self, caller_of: Callable[[str], CallerOnPBX], *, skip: Callable[[str], bool]
    ) -> None:
        now = self._clock.now()
        for pending in await self._wallet.pending_holds():
            if skip(pending.call):
                continue
            outcome = resolve(
                placed_at=pending.placed_at,
                now=now,
                max_age=self._max_hold_age,
                caller=caller_of(pending.call),
            )
            if outcome is Resolution.KEEP:
                self._pending[pending.call] = None
            elif outcome is Resolution.POST:
                confirmation = Confirmation(pending.call, "", "")
                await self._chained(
                    pending.call, self._post(pending.call, confirmation, "bridged to on-call")
                )
            else:
                reason = (
                    "hold older than the maximum"
                    if now - pending.placed_at >= self._max_hold_age
                    else "caller no longer waiting for on-call at the AMI login"
                )
                await self._chained(pending.call, self._void(pending.call, reason))

    async def _post(
        self, call: str, confirmation: Confirmation, how: str = "technician confirmed"
    ) -> None:
        detail = f"{how} {confirmation.technician}".strip()
        posted = await self._wallet.post_hold(call, detail)
        self._settled(call)
        log.info("billing.confirmed", call=call, hold=confirmation.hold or None, posted=posted)

    async def _void(self, call: str, reason: str) -> None:
        voided = await self._wallet.void_hold(call, reason)
        self._settled(call)
        log.info("billing.voided", call=call, reason=reason, voided=voided)

    def _settled(self, call: str) -> None:
        self._pending.pop(call, None)
        self._placed_order.pop(call, None)

    def _move(self, call: str, work: Callable[[], Awaitable[None]]) -> None:
        previous = self._chains.get(call)

        async def in_order() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception:
                # The database is away: the hold stays pending, resolved at the next login
                # or by the maximum age.
                log.exception("billing.move_failed", call=call)

        task = asyncio.ensure_future(in_order())
        self._chains[call] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(call, done))

    async def _chained(self, call: str, work: Awaitable[None]) -> None:
        previous = self._chains.get(call)
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await work

    def _forget(self, call: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._chains.get(call) is task:
            del self._chains[call]

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
