"""The callbacks' rows: every statement the dispatcher and the surfaces send.

Core statements on the two tables (no ORM session): the dispatcher's transactions are
short and some run for a thousand rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.callbacks.dispatch import WaitingCallback
from callrouter.callbacks.models import Callback, CallbackAttempt
from callrouter.db.types import UTCDateTime
from callrouter.ledger.tables import INCIDENTS, LedgerRow


def _table(model: type[Any]) -> Table:
    table: Table = model.metadata.tables[model.__tablename__]
    return table


CALLBACKS = _table(Callback)
ATTEMPTS = _table(CallbackAttempt)

#: A callback whose incident was refunded for another reason than its own breach
#: (reclassified non-attributable, refunded by staff) is cancelled: nobody owes a call.
CANCELLED_BY_REFUND = and_(INCIDENTS.c.refunded_at.is_not(None), CALLBACKS.c.breached_at.is_(None))
#: Pass 4H callbacks, not the calls at appointments' slots that ride the same dispatcher:
#: what the callbacks' surfaces (API, commands, console, gauges) list.
PASS_4H = CALLBACKS.c.appointment_id.is_(None)
_STILL_OWED = or_(INCIDENTS.c.refunded_at.is_(None), CALLBACKS.c.breached_at.is_not(None))


#: Between the names of `passed_over`: a line break, which no expert's name may hold
#: (textrules refuses control characters in names), while spaces are common in them.
_NAMES_APART = "\n"


def passed_over(text: str) -> frozenset[str]:
    return frozenset(name for name in text.split(_NAMES_APART) if name)


def with_passed_over(text: str, expert: str) -> str:
    return _NAMES_APART.join(sorted(passed_over(text) | {expert}))


async def insert_callback(
    connection: AsyncConnection,
    *,
    incident_id: int,
    domain: str,
    number: str,
    opened_at: datetime,
    due_at: datetime,
    not_before: datetime | None = None,
    **appointment: object,
) -> int:
    """A callback dialled from `not_before` (default: at once); `appointment` gives an
    appointment's columns (appointment_id, reserved_expert, warn_at, retry_delay_s)."""
    callback_id: int = (
        await connection.execute(
            insert(CALLBACKS).returning(CALLBACKS.c.id),
            {
                "incident_id": incident_id,
                "domain": domain,
                "number": number,
                "opened_at": opened_at,
                "due_at": due_at,
                "not_before": not_before or opened_at,
                "customer_tries": 0,
                "passed_over": "",
                **appointment,
            },
        )
    ).scalar_one()
    return callback_id


async def lock_callback(connection: AsyncConnection, callback_id: int) -> LedgerRow | None:
    """The callback with its incident's refund, its row locked until the transaction ends
    (on SQLite the writer's turn does it)."""
    return (
        await connection.execute(
            select(CALLBACKS, INCIDENTS.c.refunded_at.label("incident_refunded_at"))
            .join_from(CALLBACKS, INCIDENTS, CALLBACKS.c.incident_id == INCIDENTS.c.id)
            .where(CALLBACKS.c.id == callback_id)
            .with_for_update(of=CALLBACKS)
        )
    ).first()


async def set_callback(connection: AsyncConnection, callback_id: int, **values: object) -> None:
    await connection.execute(
        update(CALLBACKS).where(CALLBACKS.c.id == callback_id).values(**values)
    )


async def overdue(connection: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Open callbacks past their deadline, not connected and not yet breached."""
    rows = await connection.execute(
        select(CALLBACKS.c.id)
        .where(
            CALLBACKS.c.closed_at.is_(None),
            CALLBACKS.c.breached_at.is_(None),
            CALLBACKS.c.connected_at.is_(None),
            CALLBACKS.c.due_at <= now,
        )
        .order_by(CALLBACKS.c.due_at, CALLBACKS.c.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def mark_at_risk(
    connection: AsyncConnection, now: datetime, warn_from: datetime
) -> list[LedgerRow]:
    """Mark warned the open callbacks due before `warn_from` (or whose own `warn_at` has
    come) with no attempt under way and no warning yet; returns them (id, domain, due_at,
    appointment_id)."""
    rows = await connection.execute(
        update(CALLBACKS)
        .where(
            CALLBACKS.c.closed_at.is_(None),
            CALLBACKS.c.warned_at.is_(None),
            CALLBACKS.c.breached_at.is_(None),
            CALLBACKS.c.open_attempt_id.is_(None),
            or_(
                and_(CALLBACKS.c.warn_at.is_(None), CALLBACKS.c.due_at <= warn_from),
                CALLBACKS.c.warn_at <= now,
            ),
            CALLBACKS.c.incident_id.in_(
                select(INCIDENTS.c.id).where(INCIDENTS.c.refunded_at.is_(None))
            ),
        )
        .values(warned_at=now)
        .returning(
            CALLBACKS.c.id, CALLBACKS.c.domain, CALLBACKS.c.due_at, CALLBACKS.c.appointment_id
        )
    )
    return list(rows.all())


async def busy_experts(connection: AsyncConnection) -> set[str]:
    """Experts with an attempt under way: not free, whatever the PBX showed last."""
    rows = await connection.execute(select(ATTEMPTS.c.expert).where(ATTEMPTS.c.outcome.is_(None)))
    return set(rows.scalars())


async def waiting(
    connection: AsyncConnection, now: datetime, domains: Sequence[str], limit: int
) -> list[WaitingCallback]:
    """The most urgent callbacks of `domains` that may be dialled now, earliest deadline
    first."""
    rows = await connection.execute(
        select(
            CALLBACKS.c.id,
            CALLBACKS.c.domain,
            CALLBACKS.c.due_at,
            CALLBACKS.c.not_before,
            CALLBACKS.c.passed_over,
            CALLBACKS.c.reserved_expert,
        )
        .join_from(CALLBACKS, INCIDENTS, CALLBACKS.c.incident_id == INCIDENTS.c.id)
        .where(
            CALLBACKS.c.closed_at.is_(None),
            CALLBACKS.c.close_reason.is_(None),
            CALLBACKS.c.open_attempt_id.is_(None),
            CALLBACKS.c.not_before <= now,
            CALLBACKS.c.domain.in_(domains),
            _STILL_OWED,
        )
        .order_by(CALLBACKS.c.due_at, CALLBACKS.c.id)
        .limit(limit)
    )
    return [
        WaitingCallback(
            callback_id=row.id,
            domain=row.domain,
            due_at=row.due_at,
            not_before=row.not_before,
            passed_over=passed_over(row.passed_over),
            preferred=row.reserved_expert,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Claim:
    callback_id: int
    expert: str
    interface: str
    new_round: bool


@dataclass(frozen=True)
class Claimed:
    attempt_id: int
    callback_id: int
    number: str
    interface: str
    planned_at: datetime
    #: An appointment's call: the expert hears the appointment's announcement.
    appointment: bool = False


_SET_OPEN_ATTEMPT = (
    update(CALLBACKS)
    .where(CALLBACKS.c.id == bindparam("callback"))
    .values(open_attempt_id=bindparam("attempt"), passed_over=bindparam("passed"))
)


async def claim(
    connection: AsyncConnection,
    claims: Sequence[Claim],
    now: datetime,
    dispatcher: str,
    ready_by: datetime | None = None,
) -> list[Claimed]:
    """Write an attempt for each callback still free to dial by `ready_by` (default now),
    in the caller's transaction.

    The callbacks are locked with SKIP LOCKED: one another dispatcher is claiming is left
    to it. The condition is checked again on the locked row (`open_attempt_id` is NULL),
    so a callback claimed and committed meanwhile is not claimed twice.
    """
    wanted = {item.callback_id: item for item in claims}
    if not wanted:
        return []
    ready_by = ready_by or now
    if connection.dialect.name == "postgresql":
        return await _claim_on_postgres(
            connection, list(wanted.values()), now, dispatcher, ready_by
        )
    rows = (
        await connection.execute(
            select(
                CALLBACKS.c.id,
                CALLBACKS.c.number,
                CALLBACKS.c.not_before,
                CALLBACKS.c.passed_over,
                CALLBACKS.c.appointment_id,
            )
            .where(
                CALLBACKS.c.id.in_(wanted),
                CALLBACKS.c.closed_at.is_(None),
                CALLBACKS.c.close_reason.is_(None),
                CALLBACKS.c.open_attempt_id.is_(None),
                CALLBACKS.c.not_before <= ready_by,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return []
    inserted = (
        await connection.execute(
            insert(ATTEMPTS).returning(
                ATTEMPTS.c.id, ATTEMPTS.c.callback_id, sort_by_parameter_order=True
            ),
            [
                {
                    "callback_id": row.id,
                    "expert": wanted[row.id].expert,
                    "interface": wanted[row.id].interface,
                    "planned_at": row.not_before,
                    "claimed_at": now,
                    "claimed_by": dispatcher,
                    "note": "",
                }
                for row in rows
            ],
        )
    ).all()
    attempt_of = {callback_id: attempt_id for attempt_id, callback_id in inserted}
    await connection.execute(
        _SET_OPEN_ATTEMPT,
        [
            {
                "callback": row.id,
                "attempt": attempt_of[row.id],
                # A new round forgets who was passed over in the last one.
                "passed": "" if wanted[row.id].new_round else row.passed_over,
            }
            for row in rows
        ],
    )
    return [
        Claimed(
            attempt_of[row.id],
            row.id,
            row.number,
            wanted[row.id].interface,
            row.not_before,
            row.appointment_id is not None,
        )
        for row in rows
    ]


# The whole claim in one statement and one round trip: a thousand callbacks due at the same
# instant are claimed in milliseconds. The callbacks are locked (SKIP LOCKED) and checked
# again on their newest version; every data-modifying CTE sees the same snapshot.
_CLAIM_ON_POSTGRES = text(
    """
WITH wanted AS (
    SELECT * FROM unnest(:callbacks, :experts, :interfaces, :new_rounds)
        AS wanted (callback_id, expert, interface, new_round)
), chosen AS (
    SELECT callbacks.id, callbacks.number, callbacks.not_before, callbacks.appointment_id,
        wanted.expert, wanted.interface, wanted.new_round
    FROM callbacks JOIN wanted ON wanted.callback_id = callbacks.id
    WHERE callbacks.closed_at IS NULL AND callbacks.close_reason IS NULL
        AND callbacks.open_attempt_id IS NULL AND callbacks.not_before <= :ready_by
    FOR UPDATE OF callbacks SKIP LOCKED
), attempt AS (
    INSERT INTO callback_attempts (callback_id, expert, interface, planned_at, claimed_at,
        claimed_by, note)
    SELECT id, expert, interface, not_before, :now, :dispatcher, '' FROM chosen
    RETURNING id, callback_id
), marked AS (
    UPDATE callbacks SET open_attempt_id = attempt.id,
        passed_over = CASE WHEN chosen.new_round THEN '' ELSE callbacks.passed_over END
    FROM attempt JOIN chosen ON chosen.id = attempt.callback_id
    WHERE callbacks.id = attempt.callback_id
)
SELECT attempt.id AS attempt_id, chosen.id AS callback_id, chosen.number, chosen.interface,
    chosen.not_before, chosen.appointment_id IS NOT NULL AS appointment
FROM attempt JOIN chosen ON chosen.id = attempt.callback_id
"""
).bindparams(
    bindparam("callbacks", type_=ARRAY(Integer)),
    bindparam("experts", type_=ARRAY(String)),
    bindparam("interfaces", type_=ARRAY(String)),
    bindparam("new_rounds", type_=ARRAY(Boolean)),
    bindparam("now", type_=UTCDateTime()),
    bindparam("ready_by", type_=UTCDateTime()),
)


async def _claim_on_postgres(
    connection: AsyncConnection,
    claims: Sequence[Claim],
    now: datetime,
    dispatcher: str,
    ready_by: datetime,
) -> list[Claimed]:
    rows = await connection.execute(
        _CLAIM_ON_POSTGRES,
        {
            "callbacks": [item.callback_id for item in claims],
            "experts": [item.expert for item in claims],
            "interfaces": [item.interface for item in claims],
            "new_rounds": [item.new_round for item in claims],
            "now": now,
            "ready_by": ready_by,
            "dispatcher": dispatcher,
        },
    )
    return [
        Claimed(
            row.attempt_id,
            row.callback_id,
            row.number,
            row.interface,
            row.not_before,
            row.appointment,
        )
        for row in rows
    ]


_PLACED = (
    update(ATTEMPTS)
    .where(ATTEMPTS.c.id == bindparam("attempt"), ATTEMPTS.c.placed_at.is_(None))
    .values(placed_at=bindparam("at"))
)


async def mark_placed(connection: AsyncConnection, placed: Sequence[tuple[int, datetime]]) -> None:
    if placed:
        await connection.execute(
            _PLACED, [{"attempt": attempt, "at": at} for attempt, at in placed]
        )


async def lock_open_attempt(connection: AsyncConnection, attempt_id: int) -> LedgerRow | None:
    """The attempt if it has no outcome yet (locked); None when it was settled already."""
    return (
        await connection.execute(
            select(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id, ATTEMPTS.c.outcome.is_(None))
            .with_for_update()
        )
    ).first()


async def set_attempt(connection: AsyncConnection, attempt_id: int, **values: object) -> None:
    await connection.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id).values(**values))


async def open_attempts(
    connection: AsyncConnection, claimed_before: datetime | None = None
) -> list[int]:
    query = select(ATTEMPTS.c.id).where(ATTEMPTS.c.outcome.is_(None))
    if claimed_before is not None:
        query = query.where(ATTEMPTS.c.claimed_at < claimed_before)
    return list((await connection.execute(query.order_by(ATTEMPTS.c.id))).scalars())


#: What a callback's timers are planned from (callbacks.timers.timers_of).
TIMER_COLUMNS = (
    CALLBACKS.c.id,
    CALLBACKS.c.due_at,
    CALLBACKS.c.not_before,
    CALLBACKS.c.warned_at,
    CALLBACKS.c.warn_at,
    CALLBACKS.c.breached_at,
)


def timer_rows_due(until: datetime) -> Any:
    """Open callbacks with a warning or a deadline before `until` (the timers' horizon)."""
    return select(*TIMER_COLUMNS).where(
        CALLBACKS.c.closed_at.is_(None), CALLBACKS.c.due_at <= until
    )


def timer_rows_retrying(now: datetime, until: datetime) -> Any:
    """Open callbacks waiting for a retry that falls within the horizon."""
    return select(*TIMER_COLUMNS).where(
        CALLBACKS.c.closed_at.is_(None),
        CALLBACKS.c.not_before > now,
        CALLBACKS.c.not_before <= until,
    )


async def count_open(connection: AsyncConnection) -> int:
    count: int = (
        await connection.execute(
            select(func.count()).select_from(CALLBACKS).where(CALLBACKS.c.closed_at.is_(None))
        )
    ).scalar_one()
    return count
