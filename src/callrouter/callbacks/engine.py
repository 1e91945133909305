"""The dispatcher's work, decided from the tables each time it is woken.

One cycle (`run_once`): refund the callbacks past their deadline, warn about those at risk,
then pair the most urgent waiting callbacks with free experts, claim them (attempt rows
written and committed) and only then ask the PBX to dial. A result from the PBX settles its
attempt and says what comes next (`on_result`). Timers only decide when a cycle runs.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callrouter.callbacks import store
from callrouter.callbacks.alerts import AlertKind, CallbackAlert, CallbackAlerts
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.dispatch import assign
from callrouter.callbacks.followers import CallbackFollower, NoFollower
from callrouter.callbacks.placing import (
    AttemptRequest,
    AttemptResult,
    CallPlacer,
    PlacementFailed,
)
from callrouter.callbacks.rules import (
    CallbackPolicy,
    Outcome,
    StepKind,
    after_attempt,
    is_breached,
)
from callrouter.callbacks.timers import clock_speed
from callrouter.clock import Clock
from callrouter.db.writer import write_transaction
from callrouter.experts.rules import Expert
from callrouter.ledger.refunds import refund_within
from callrouter.ledger.tables import LedgerRow

log = structlog.get_logger(__name__)

#: Callbacks read per cycle for pairing: far more than experts can take at once.
_WAITING_PER_CYCLE = 2000
#: Deadlines handled per transaction batch; the next cycle takes the rest.
_OVERDUE_PER_CYCLE = 1000
#: Outcomes where the customer's phone rang: they count against the tries.
_REACHED_CUSTOMER = frozenset(
    {Outcome.CUSTOMER_NO_ANSWER, Outcome.CUSTOMER_BUSY, Outcome.CONNECTED}
)

Experts = Callable[[], Awaitable[Sequence[Expert]]]
FreeExperts = Callable[[Sequence[Expert], datetime], Sequence[Expert]]
#: Told when a callback's next instant (retry, warning, deadline) may have changed.
Replan = Callable[[int], None]


def dispatcher_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class CycleReport:
    breached: int = 0
    warned: int = 0
    placed: int = 0


class CallbackEngine:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        config: CallbacksConfig,
        placer: CallPlacer | None,
        *,
        experts: Experts,
        free_experts: FreeExperts,
        alerts: CallbackAlerts,
        name: str | None = None,
        follower: CallbackFollower | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._config = config
        self._placer = placer
        self._experts = experts
        self._free_experts = free_experts
        self._alerts = alerts
        self._follower = follower or NoFollower()
        self.name = name or dispatcher_name()
        self.replan: Replan = lambda callback_id: None
        #: Set when a result arrived: one more cycle is due.
        self.wake: Callable[[], None] = lambda: None
        #: Optional probe (the bench): called with each attempt just before place().
        self.placing: Callable[[AttemptRequest, datetime], None] | None = None

    # The cycle

    async def run_once(self) -> CycleReport:
        report = CycleReport()
        now = self._clock.now()
        report.breached = await self._breach_overdue(now)
        report.warned = await self._warn_at_risk(now)
        report.placed = await self._dispatch(now)
        return report

    async def _breach_overdue(self, now: datetime) -> int:
        async with self._engine.connect() as connection:
            ids = await store.overdue(connection, now, _OVERDUE_PER_CYCLE)
        breached = 0
        for callback_id in ids:
            breached += await self.breach(callback_id)
        return breached

    async def breach(self, callback_id: int) -> int:
        """The deadline of `callback_id` fired: refund its incident, once. Any number of
        firings, concurrent or not, in any process, refund it once (1 if this one did)."""
        now = self._clock.now()
        async with write_transaction(self._engine) as connection:
            row = await store.lock_callback(connection, callback_id)
            if row is None or not _breachable(row, now):
                return 0
            if row.incident_refunded_at is not None:
                await _cancel_refunded(connection, row, now)
                return 0
            await self._refund(connection, row, now)
        self.replan(callback_id)
        return 1

    async def _refund(self, connection: AsyncConnection, row: LedgerRow, now: datetime) -> None:
        if row.appointment_id is None:
            reason = f"callback {row.id} not made by its deadline (Pass 4H)"
        else:
            reason = (
                f"appointment {row.appointment_id}: expert and customer not connected "
                "within the quarter hour of the slot (Pass RDV)"
            )
        # Keyed by the callback: whichever way the breach is found, one refund.
        refund = await refund_within(
            connection, row.incident_id, reason, f"callback-breach:{row.id}", now
        )
        await store.set_callback(connection, row.id, breached_at=now)
        await self._follower.breached(connection, row.id)
        self._alerts.publish(
            CallbackAlert(
                AlertKind.BREACHED,
                row.id,
                row.domain,
                row.due_at,
                now,
                _about(row) + f"incident {row.incident_id} refunded ({refund.points} points); "
                "the caller is still to be called back",
            )
        )

    async def _warn_at_risk(self, now: datetime) -> int:
        async with write_transaction(self._engine) as connection:
            rows = await store.mark_at_risk(connection, now, now + self._config.policy.warn_before)
        for row in rows:
            minutes = max(0, int((row.due_at - now).total_seconds()) // 60)
            self._alerts.publish(
                CallbackAlert(
                    AlertKind.AT_RISK,
                    row.id,
                    row.domain,
                    row.due_at,
                    now,
                    _about(row) + f"no attempt under way, due in {minutes} min",
                )
            )
        return len(rows)

    async def _dispatch(self, now: datetime) -> int:
        if self._placer is None:
            # No PBX to place calls through: deadlines, warnings and refunds still hold.
            return 0
        everyone = await self._experts()
        async with self._engine.connect() as connection:
            busy = await store.busy_experts(connection)
            free = [
                expert for expert in self._free_experts(everyone, now) if expert.name not in busy
            ]
            if not free:
                return 0
            domains = sorted({domain for expert in free for domain in expert.domains})
            # Attempts planned within `claim_ahead` are claimed now and placed on time.
            ready_by = now + self._config.claim_ahead
            queue = await store.waiting(connection, ready_by, domains, _WAITING_PER_CYCLE)
        pairs = assign(queue, free, everyone, ready_by)
        if not pairs:
            return 0
        interface = {expert.name: expert.interface for expert in everyone}
        claims = [
            store.Claim(pair.callback_id, pair.expert, interface[pair.expert], pair.new_round)
            for pair in pairs
        ]
        async with write_transaction(self._engine) as connection:
            claimed = await store.claim(connection, claims, now, self.name, ready_by)
            await self._follower.claimed(connection, [item.callback_id for item in claimed])
        # Committed: from here on, a crash leaves attempts to reconcile, never to redo.
        outcomes = await asyncio.gather(*(self._place(attempt) for attempt in claimed))
        placed = [
            (attempt.attempt_id, at) for attempt, at in zip(claimed, outcomes, strict=True) if at
        ]
        if placed:
            async with write_transaction(self._engine) as connection:
                await store.mark_placed(connection, placed)
        return len(placed)

    async def _place(self, attempt: store.Claimed) -> datetime | None:
        request = AttemptRequest(
            attempt_id=attempt.attempt_id,
            callback_id=attempt.callback_id,
            expert_interface=attempt.interface,
            customer_number=attempt.number,
            expert_ring_timeout=self._config.expert_ring_timeout,
            customer_ring_timeout=self._config.customer_ring_timeout,
            announcement="appointment" if attempt.appointment else "callback",
        )
        early = (attempt.planned_at - self._clock.now()).total_seconds()
        if early > 0:
            await asyncio.sleep(early / clock_speed(self._clock))
        if self.placing is not None:
            self.placing(request, attempt.planned_at)
        assert self._placer is not None  # checked before claiming
        try:
            await self._placer.place(request)
        except PlacementFailed as error:
            await self._placement_failed(attempt, str(error))
            return None
        except Exception:
            # Whether the PBX got it is unknown: the attempt stays open until reconciled.
            log.exception("callbacks.place_failed", attempt=attempt.attempt_id)
            return None
        log.info(
            "callbacks.placed",
            callback=attempt.callback_id,
            attempt=attempt.attempt_id,
            interface=attempt.interface,
        )
        return self._clock.now()

    async def _placement_failed(self, attempt: store.Claimed, why: str) -> None:
        now = self._clock.now()
        log.warning("callbacks.not_placed", attempt=attempt.attempt_id, reason=why)
        async with write_transaction(self._engine) as connection:
            if await store.lock_open_attempt(connection, attempt.attempt_id) is None:
                return
            await store.set_attempt(
                connection,
                attempt.attempt_id,
                outcome=Outcome.FAILED.value,
                ended_at=now,
                note=f"not placed: {why}",
            )
            # Nothing was dialled: no expert is passed over, the link gets time to return.
            await store.set_callback(
                connection,
                attempt.callback_id,
                open_attempt_id=None,
                not_before=now + self._config.placement_retry,
            )
        self.replan(attempt.callback_id)

    # Results and reconciliation

    async def on_result(self, result: AttemptResult) -> None:
        """The PBX side's word on an attempt; a repeated result changes nothing."""
        now = self._clock.now()
        async with write_transaction(self._engine) as connection:
            attempt = await store.lock_open_attempt(connection, result.attempt_id)
            if attempt is None:
                log.info("callbacks.result_already_settled", attempt=result.attempt_id)
                return
            callback = await store.lock_callback(connection, attempt.callback_id)
            assert callback is not None  # the foreign key
            await store.set_attempt(
                connection,
                attempt.id,
                outcome=result.outcome.value,
                expert_answered_at=result.expert_answered_at,
                customer_answered_at=result.customer_answered_at,
                connected_at=result.connected_at,
                ended_at=result.ended_at,
            )
            await self._follow_up(connection, callback, attempt, result, now)
        log.info(
            "callbacks.attempt_settled",
            callback=attempt.callback_id,
            attempt=attempt.id,
            expert=attempt.expert,
            outcome=result.outcome.value,
        )
        self.replan(attempt.callback_id)
        self.wake()

    async def _follow_up(
        self,
        connection: AsyncConnection,
        callback: LedgerRow,
        attempt: LedgerRow,
        result: AttemptResult,
        now: datetime,
    ) -> None:
        tries = callback.customer_tries + (1 if result.outcome in _REACHED_CUSTOMER else 0)
        step = after_attempt(result.outcome, tries, self._policy_of(callback), now)
        values: dict[str, object] = {"open_attempt_id": None, "customer_tries": tries}
        if callback.closed_at is not None:
            # Cancelled while it rang: the attempt is recorded, nothing follows.
            if result.outcome is Outcome.CONNECTED:
                values.update(connected_at=result.connected_at or now)
        elif step.kind is StepKind.DONE:
            connected_at = result.connected_at or now
            values.update(connected_at=connected_at, closed_at=now, close_reason="met")
            late = is_breached(callback.due_at, connected_at, now)
            if late and callback.breached_at is None and callback.incident_refunded_at is None:
                # Met after the deadline is still a breach: the case is free.
                await self._refund(connection, callback, now)
            await self._follower.connected(connection, callback.id, late)
        elif step.kind is StepKind.NEXT_EXPERT:
            values.update(
                not_before=step.not_before,
                passed_over=store.with_passed_over(callback.passed_over, attempt.expert),
            )
        elif step.kind is StepKind.RETRY_LATER:
            values.update(not_before=step.not_before, passed_over="")
        else:
            # Left open for its deadline (a breach still refunds it): a person calls now.
            values.update(close_reason="gave-up")
            self._alerts.publish(
                CallbackAlert(
                    AlertKind.GAVE_UP,
                    callback.id,
                    callback.domain,
                    callback.due_at,
                    now,
                    f"the customer did not answer {tries} tries: call them by hand",
                )
            )
        await store.set_callback(connection, callback.id, **values)

    def _policy_of(self, callback: LedgerRow) -> CallbackPolicy:
        """The [callbacks] policy, with the row's own retry delay (an appointment's)."""
        if callback.retry_delay_s is None:
            return self._config.policy
        return replace(self._config.policy, retry_delay=timedelta(seconds=callback.retry_delay_s))

    async def reconcile(self, *, stale_only: bool = False) -> int:
        """Attempts without an outcome (after a restart, a reconnection, or a result that
        never came): the PBX says whether each call is still up. One that is not is
        settled as failed and the callback goes on with another expert; one that is stays
        open. Nothing is dialled again blindly. Returns how many were settled."""
        now = self._clock.now()
        config = self._config
        stale_before = None
        if stale_only:
            # Longer than both legs can ring: its result should have come by now.
            stale_before = now - config.expert_ring_timeout - config.customer_ring_timeout * 2
        async with self._engine.connect() as connection:
            ids = await store.open_attempts(connection, stale_before)
        if not ids or self._placer is None:
            return 0
        up = await self._placer.reconcile(ids)
        settled = 0
        for attempt_id in ids:
            if up.get(attempt_id, False):
                continue
            settled += await self._settle_gone(attempt_id, now)
        log.info("callbacks.reconciled", open=len(ids), settled=settled)
        return settled

    async def _settle_gone(self, attempt_id: int, now: datetime) -> int:
        async with write_transaction(self._engine) as connection:
            attempt = await store.lock_open_attempt(connection, attempt_id)
            if attempt is None:
                return 0
            await store.set_attempt(
                connection,
                attempt_id,
                outcome=Outcome.FAILED.value,
                ended_at=now,
                note="reconciled: the call was no longer up on the PBX",
            )
            await store.set_callback(
                connection, attempt.callback_id, open_attempt_id=None, not_before=now
            )
        self.replan(attempt.callback_id)
        return 1


def _about(row: LedgerRow) -> str:
    """An appointment's alert names it: the supervisor looks it up by that."""
    return "" if row.appointment_id is None else f"appointment {row.appointment_id}: "


def _breachable(row: LedgerRow, now: datetime) -> bool:
    return (
        row.closed_at is None
        and row.breached_at is None
        and row.connected_at is None
        and now >= row.due_at
    )


async def _cancel_refunded(connection: AsyncConnection, row: LedgerRow, now: datetime) -> None:
    await store.set_callback(connection, row.id, closed_at=now, close_reason="incident-refunded")
    log.info("callbacks.cancelled", callback=row.id, reason="incident refunded")
