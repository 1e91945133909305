"""Callbacks as staff see them: their standing, deadline, time left and attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.callbacks import store
from callrouter.callbacks.rules import CallbackFacts, CallbackPolicy, Standing, standing
from callrouter.clock import Clock
from callrouter.db.writer import write_transaction
from callrouter.errors import CallrouterError
from callrouter.ledger.tables import INCIDENTS, LedgerRow

log = structlog.get_logger(__name__)

CALLBACKS, ATTEMPTS = store.CALLBACKS, store.ATTEMPTS
_CANCELLED_REASONS = ("cancelled", "incident-refunded")


class UnknownCallback(CallrouterError):
    def __init__(self, callback_id: int) -> None:
        super().__init__(f"no callback {callback_id}")
        self.callback_id = callback_id


class CallbackClosed(CallrouterError):
    """Cancelling a callback that was already met or cancelled."""


@dataclass(frozen=True)
class AttemptView:
    id: int
    expert: str
    claimed_at: datetime
    placed_at: datetime | None
    expert_answered_at: datetime | None
    customer_answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    note: str


@dataclass(frozen=True)
class CallbackView:
    id: int
    incident_id: int
    domain: str
    number: str
    standing: Standing
    opened_at: datetime
    due_at: datetime
    #: Until the deadline; negative once it passed.
    seconds_left: int
    customer_tries: int
    attempt_count: int
    warned_at: datetime | None
    connected_at: datetime | None
    breached_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    attempts: tuple[AttemptView, ...] = ()


def _cancelled(row: LedgerRow) -> bool:
    refunded_elsewhere = (
        row.incident_refunded_at is not None
        and row.breached_at is None
        and row.connected_at is None
    )
    return row.close_reason in _CANCELLED_REASONS or refunded_elsewhere


def _standing_in_sql(now: datetime, policy: CallbackPolicy) -> ColumnElement[str]:
    """`rules.standing` as a SQL expression, to filter a page on the database's side."""
    c = CALLBACKS.c
    cancelled = or_(
        c.close_reason.in_(_CANCELLED_REASONS),
        and_(
            INCIDENTS.c.refunded_at.is_not(None), c.breached_at.is_(None), c.connected_at.is_(None)
        ),
    )
    breached = or_(
        and_(c.connected_at.is_not(None), c.connected_at >= c.due_at),
        and_(c.connected_at.is_(None), c.due_at <= now),
    )
    return case(
        (cancelled, Standing.CANCELLED.value),
        (breached, Standing.BREACHED.value),
        (c.connected_at.is_not(None), Standing.MET.value),
        (c.open_attempt_id.is_not(None), Standing.DIALLING.value),
        (c.due_at <= now + policy.warn_before, Standing.AT_RISK.value),
        else_=Standing.PENDING.value,
    )


class CallbackQueries:
    def __init__(self, engine: AsyncEngine, clock: Clock, policy: CallbackPolicy) -> None:
        self._engine = engine
        self._clock = clock
        self._policy = policy

    def _select(self) -> Select[Any]:
        attempts = (
            select(func.count())
            .where(ATTEMPTS.c.callback_id == CALLBACKS.c.id)
            .scalar_subquery()
            .label("attempt_count")
        )
        return (
            select(CALLBACKS, INCIDENTS.c.refunded_at.label("incident_refunded_at"), attempts)
            .join_from(CALLBACKS, INCIDENTS, CALLBACKS.c.incident_id == INCIDENTS.c.id)
            .where(store.PASS_4H)
        )

    async def page(
        self, *, standing: Standing | None = None, after: int | None = None, limit: int = 50
    ) -> list[CallbackView]:
        """Callbacks by deadline, earliest first; `after` is the last id of the page before."""
        now = self._clock.now()
        query = self._select()
        if standing is not None:
            query = query.where(_standing_in_sql(now, self._policy) == standing.value)
        if after is not None:
            last_due = select(CALLBACKS.c.due_at).where(CALLBACKS.c.id == after).scalar_subquery()
            query = query.where(
                or_(
                    CALLBACKS.c.due_at > last_due,
                    and_(CALLBACKS.c.due_at == last_due, CALLBACKS.c.id > after),
                )
            )
        query = query.order_by(CALLBACKS.c.due_at, CALLBACKS.c.id).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [self._view(row, now) for row in rows]

    async def latest(self, since: datetime, limit: int) -> list[CallbackView]:
        """The callbacks still open, and those met, breached or closed at `since` or after,
        by deadline (the demo's screen: what is owed now and what just happened)."""
        now = self._clock.now()
        c = CALLBACKS.c
        query = (
            self._select()
            .where(
                or_(
                    c.closed_at.is_(None),
                    c.closed_at >= since,
                    c.connected_at >= since,
                    c.breached_at >= since,
                )
            )
            .order_by(c.due_at, c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [self._view(row, now) for row in rows]

    async def open_counts(self) -> dict[Standing, int]:
        """How many callbacks still to be made stand each way (the metrics' gauges)."""
        now = self._clock.now()
        standing_now = _standing_in_sql(now, self._policy)
        query = (
            select(standing_now, func.count())
            .select_from(CALLBACKS)
            .join(INCIDENTS, CALLBACKS.c.incident_id == INCIDENTS.c.id)
            .where(CALLBACKS.c.closed_at.is_(None), store.PASS_4H)
            .group_by(standing_now)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {Standing(standing): count for standing, count in rows}

    async def show(self, callback_id: int) -> CallbackView:
        now = self._clock.now()
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(self._select().where(CALLBACKS.c.id == callback_id))
            ).first()
            if row is None:
                raise UnknownCallback(callback_id)
            attempts = (
                await connection.execute(
                    select(ATTEMPTS)
                    .where(ATTEMPTS.c.callback_id == callback_id)
                    .order_by(ATTEMPTS.c.id)
                )
            ).all()
        return self._view(row, now, tuple(_attempt(attempt) for attempt in attempts))

    async def cancel(self, callback_id: int, reason: str) -> CallbackView:
        """Nothing more will be dialled (a person called them, the customer declined). An
        attempt already ringing finishes; a refund already made stays."""
        now = self._clock.now()
        async with write_transaction(self._engine) as connection:
            row = await store.lock_callback(connection, callback_id)
            # An appointment's call is cancelled with its appointment, never alone.
            if row is None or row.appointment_id is not None:
                raise UnknownCallback(callback_id)
            if row.closed_at is not None:
                raise CallbackClosed(
                    f"callback {callback_id} is already closed ({row.close_reason})"
                )
            await store.set_callback(
                connection, callback_id, closed_at=now, close_reason="cancelled"
            )
        log.info("callbacks.cancelled", callback=callback_id, reason=reason)
        return await self.show(callback_id)

    def _view(
        self, row: LedgerRow, now: datetime, attempts: tuple[AttemptView, ...] = ()
    ) -> CallbackView:
        facts = CallbackFacts(
            due_at=row.due_at,
            connected_at=row.connected_at,
            cancelled=_cancelled(row),
            attempt_under_way=row.open_attempt_id is not None,
        )
        return CallbackView(
            id=row.id,
            incident_id=row.incident_id,
            domain=row.domain,
            number=row.number,
            standing=standing(facts, self._policy, now),
            opened_at=row.opened_at,
            due_at=row.due_at,
            seconds_left=int((row.due_at - now).total_seconds()),
            customer_tries=row.customer_tries,
            attempt_count=row.attempt_count if not attempts else len(attempts),
            warned_at=row.warned_at,
            connected_at=row.connected_at,
            breached_at=row.breached_at,
            closed_at=row.closed_at,
            close_reason=row.close_reason,
            attempts=attempts,
        )


def _attempt(row: LedgerRow) -> AttemptView:
    return AttemptView(
        id=row.id,
        expert=row.expert,
        claimed_at=row.claimed_at,
        placed_at=row.placed_at,
        expert_answered_at=row.expert_answered_at,
        customer_answered_at=row.customer_answered_at,
        connected_at=row.connected_at,
        ended_at=row.ended_at,
        outcome=row.outcome,
        note=row.note,
    )
