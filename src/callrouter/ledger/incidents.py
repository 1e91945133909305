"""Incidents: opened and debited once, further calls at no cost, and their history.

seeds/000_0e15b6772b2a7f9e.txt: points are debited when an incident opens, once
("plusieurs appels sans cumul de coût"). On PostgreSQL the opening is one prepared
statement (callrouter.ledger.postgres); elsewhere the same steps run here, one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.db.writer import write_transaction
from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.errors import (
    InsufficientBalance,
    InvalidRequest,
    UnknownIncident,
)
from callrouter.ledger.idempotency import (
    OPEN_KEY_PREFIX,
    check_key,
    idempotent,
    idempotent_checked,
)
from callrouter.ledger.incident_events import (
    IncidentEventKind,
    event_by_key,
    incident_account,
    same_incident,
    write_event,
)
from callrouter.ledger.models import Incident
from callrouter.ledger.opening import (
    OpenedIncident,
    OpeningRequest,
    call_reference,
    check_replay,
)
from callrouter.ledger.postgres import open_on_postgres
from callrouter.ledger.postings import MovementKind, write_movement
from callrouter.ledger.prices import (
    ON_QUOTE,
    AssistanceLevel,
    Classification,
    OnQuote,
    Points,
    Price,
    points_due,
)
from callrouter.ledger.tables import ACCOUNTS, EVENTS, INCIDENTS
from callrouter.passes import Pass

log = structlog.get_logger(__name__)

#: Runs in the opening's transaction, after the debit, with the new incident's id and
#: opening instant: what must exist with the incident or not at all (a Pass 4H callback).
OpeningHook = Callable[[AsyncConnection, int, datetime], Awaitable[None]]


@dataclass(frozen=True)
class AttachedCall:
    incident_id: int
    call: str
    replayed: bool


@dataclass(frozen=True)
class IncidentEventView:
    kind: IncidentEventKind
    at: datetime
    detail: str
    call: str | None


@dataclass(frozen=True)
class IncidentView:
    id: int
    account_number: str
    level: AssistanceLevel
    chosen_pass: Pass
    third_party: bool
    emergency: bool
    classification: Classification
    price: Price
    debited: Points
    summary: str
    opening_call: str | None
    opened_at: datetime
    refunded_at: datetime | None
    events: list[IncidentEventView]


# Prepared statements of the hot path: built once, so each call only binds parameters.
_INCIDENT_BY_KEY = (
    select(
        INCIDENTS.c.id,
        INCIDENTS.c.price,
        INCIDENTS.c.debited,
        INCIDENTS.c.balance_after,
        INCIDENTS.c.open_fingerprint,
        ACCOUNTS.c.number,
    )
    .join_from(INCIDENTS, ACCOUNTS, INCIDENTS.c.account_id == ACCOUNTS.c.id)
    .where(INCIDENTS.c.open_key == bindparam("key"))
)
# The key look-up rides on the lock statement: one round trip instead of two. A request with
# the same key committed while we waited for the lock is caught by the unique key instead.
_LOCK_ACCOUNT_FOR_OPENING = (
    select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.balance,
        ACCOUNTS.c.held,
        select(INCIDENTS.c.id)
        .where(INCIDENTS.c.open_key == bindparam("key"))
        .scalar_subquery()
        .label("earlier"),
    )
    .where(ACCOUNTS.c.number == bindparam("number"))
    .with_for_update(of=ACCOUNTS)
)
_INSERT_INCIDENT = insert(INCIDENTS).returning(INCIDENTS.c.id)


class Incidents:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    async def open(
        self,
        account_number: str,
        *,
        level: AssistanceLevel,
        pass_: Pass,
        idempotency_key: str,
        third_party: bool = False,
        emergency: bool = False,
        classification: Classification = Classification.EXPERT,
        summary: str = "",
        call: str | None = None,
        then: OpeningHook | None = None,
    ) -> OpenedIncident:
        """Open an incident and debit its price, in one transaction.

        Raises EmergencyUnavailable (emergency without a pass that opens it),
        AccountNotFound, or InsufficientBalance (then nothing is opened nor debited).
        The same `idempotency_key` again returns the first result and changes nothing.
        `then` runs inside that transaction when the incident is new; if it raises, nothing
        is opened.
        """
        check_key(idempotency_key)
        context = self._context
        price = context.config.prices.price(
            level=level,
            pass_=pass_,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
        )
        due = points_due(price)
        now = context.clock.now()
        request = OpeningRequest(
            account_number=account_number,
            level=level,
            pass_=pass_,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
            summary=summary,
            call=call_reference(call),
        )

        async def replay() -> OpenedIncident | None:
            async with context.sessions() as session:
                connection = await session.connection()
                return await _opened_by_key(connection, idempotency_key, request)

        async def work() -> OpenedIncident:
            # The one-statement path has no transaction to run `then` in.
            if context.on_postgres and then is None:
                return await open_on_postgres(
                    context.engine, request, idempotency_key, price, due, now
                )
            async with write_transaction(context.engine) as connection:
                opened = await open_within(connection, request, idempotency_key, price, due, now)
                if then is not None and not opened.replayed:
                    await then(connection, opened.incident_id, now)
                return opened

        opened = await idempotent(work, replay)
        if not opened.replayed:
            log.info(
                "ledger.incident_opened",
                incident=opened.incident_id,
                account=account_number,
                debited=due,
                balance=opened.balance,
            )
        return opened

    async def attach_call(self, incident_id: int, call: str, idempotency_key: str) -> AttachedCall:
        """Record a further call on the incident. It costs nothing: the incident was
        debited once, when it opened."""
        check_key(idempotency_key)
        reference = call_reference(call)
        if reference is None:
            raise InvalidRequest("a call reference (e.g. the channel's Uniqueid) is needed")
        context = self._context

        async def replay() -> AttachedCall | None:
            async with context.sessions() as session:
                event = await event_by_key(await session.connection(), idempotency_key)
            if event is None:
                return None
            same_incident(event, incident_id, idempotency_key)
            return AttachedCall(incident_id, event.call or "", replayed=True)

        async def work() -> AttachedCall:
            async with context.sessions.begin() as session:
                connection = await session.connection()
                if await incident_account(connection, incident_id) is None:
                    raise UnknownIncident(incident_id)
                await write_event(
                    connection,
                    incident_id,
                    IncidentEventKind.CALL,
                    at=context.clock.now(),
                    detail="further call on the incident, no charge",
                    call=reference,
                    key=idempotency_key,
                )
            return AttachedCall(incident_id, reference, replayed=False)

        return await idempotent_checked(work, replay)

    async def view(self, incident_id: int) -> IncidentView:
        """The incident as it stands, with its history, oldest event first."""
        async with self._context.sessions() as session:
            row = (
                await session.execute(
                    select(INCIDENTS, ACCOUNTS.c.number)
                    .join_from(INCIDENTS, ACCOUNTS, INCIDENTS.c.account_id == ACCOUNTS.c.id)
                    .where(INCIDENTS.c.id == incident_id)
                )
            ).first()
            if row is None:
                raise UnknownIncident(incident_id)
            events = (
                await session.execute(
                    select(EVENTS).where(EVENTS.c.incident_id == incident_id).order_by(EVENTS.c.id)
                )
            ).all()
        return IncidentView(
            **incident_fields(row),
            account_number=row.number,
            opening_call=row.opening_call,
            events=[
                IncidentEventView(
                    kind=IncidentEventKind(event.kind),
                    at=event.at,
                    detail=event.detail,
                    call=event.call,
                )
                for event in events
            ],
        )


def incident_fields(row: Incident | Row[Any]) -> dict[str, Any]:
    """What every reader shows of an incidents row (an IncidentView's and an account page's
    entry's fields), as the domain's types."""
    return {
        "id": row.id,
        "level": AssistanceLevel(row.level),
        "chosen_pass": Pass(row.chosen_pass),
        "third_party": row.third_party,
        "emergency": row.emergency,
        "classification": Classification(row.classification),
        "price": ON_QUOTE if row.price is None else row.price,
        "debited": row.debited,
        "summary": row.summary,
        "opened_at": row.opened_at,
        "refunded_at": row.refunded_at,
    }


async def open_within(
    connection: AsyncConnection,
    request: OpeningRequest,
    idempotency_key: str,
    price: Price,
    due: Points,
    now: datetime,
) -> OpenedIncident:
    """Open the incident and debit `due` in the caller's transaction (the portable path).

    A use case that opens an incident together with rows of its own (an appointment and its
    reserved expert) calls this inside its transaction: both commit or neither does. An
    incident already under `idempotency_key` is returned as replayed (IdempotencyKeyReused
    for another request). Raises AccountNotFound or InsufficientBalance.
    """
    account = (
        await connection.execute(
            _LOCK_ACCOUNT_FOR_OPENING,
            {"number": request.account_number, "key": idempotency_key},
        )
    ).first()
    if account is None:
        raise AccountNotFound(request.account_number)
    if account.earlier is not None:
        earlier = await _opened_by_key(connection, idempotency_key, request)
        if earlier is not None:
            return earlier
    # Points held for emergency calls (callrouter.ledger.holds) are not spendable.
    available = account.balance - account.held
    if available < due:
        raise InsufficientBalance(request.account_number, available, due)
    balance = account.balance - due
    incident_id = await write_incident(
        connection,
        request,
        account_id=account.id,
        price=None if isinstance(price, OnQuote) else due,
        debited=due,
        balance_after=balance,
        key=idempotency_key,
        now=now,
    )
    return OpenedIncident(incident_id, request.account_number, price, due, balance, replayed=False)


async def _opened_by_key(
    connection: AsyncConnection, key: str, request: OpeningRequest
) -> OpenedIncident | None:
    row = (await connection.execute(_INCIDENT_BY_KEY, {"key": key})).first()
    if row is None:
        return None
    check_replay(
        key,
        request,
        incident_id=row.id,
        account_number=row.number,
        fingerprint=row.open_fingerprint,
    )
    return OpenedIncident(
        incident_id=row.id,
        account_number=row.number,
        price=ON_QUOTE if row.price is None else row.price,
        debited=row.debited,
        balance=row.balance_after,
        replayed=True,
    )


async def write_incident(
    connection: AsyncConnection,
    request: OpeningRequest,
    *,
    account_id: int,
    price: Points | None,
    debited: Points,
    balance_after: Points,
    key: str,
    now: datetime,
    debit_note: str = "",
) -> int:
    """Insert the incident under `key` and, when something is debited, its debit movement
    (on the account already locked and its balance already checked); the incident's id.

    `price` is None for a service on quote; `debit_note` is added to the movement's reason.
    """
    incident_id: int = (
        await connection.execute(
            _INSERT_INCIDENT,
            {
                "account_id": account_id,
                "level": request.level.value,
                "chosen_pass": request.pass_.value,
                "third_party": request.third_party,
                "emergency": request.emergency,
                "classification": request.classification.value,
                "price": price,
                "debited": debited,
                "balance_after": balance_after,
                "summary": request.summary,
                "opening_call": request.call,
                "opened_at": now,
                "open_key": key,
                "open_fingerprint": request.fingerprint,
                "refunded_at": None,
            },
        )
    ).scalar_one()
    if debited:
        await write_movement(
            connection,
            account_id=account_id,
            kind=MovementKind.DEBIT,
            amount=-debited,
            balance=balance_after,
            at=now,
            reason=f"incident opened: {request.description()}{debit_note}",
            reference=f"incident {incident_id}",
            incident_id=incident_id,
            key=f"{OPEN_KEY_PREFIX}{key}",
        )
    return incident_id
