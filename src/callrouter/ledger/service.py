"""The points ledger: every balance change is a movement, written under the account's lock.

seeds/000_0e15b6772b2a7f9e.txt: the account "peut être crédité ou débité au fil du temps";
points are debited when an incident opens, once ("plusieurs appels sans cumul de coût"),
and refunded in full when it turns out non-attributable ("Offert").

How money stays right under concurrency, retries and crashes:
- one transaction per operation: the account row is locked (SELECT ... FOR UPDATE on
  PostgreSQL; on SQLite every transaction begins IMMEDIATE, see callrouter.db.engine, which
  serialises writers), the balance is checked, the movement inserted and the cached balance
  written, all committed together or not at all;
- every movement has a unique idempotency key derived from the request (the incident's
  opening key, the incident of a refund, the recharge code, the caller's credit key), so
  a replayed request finds the first result instead of moving points twice, and two
  racing replays cannot both insert: the loser rolls back and returns the winner's result;
- the database refuses a negative balance (CHECK constraints) even if the code were wrong.

The hot path (opening an incident) uses prepared Core statements, not ORM objects.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias, TypeVar

import asyncpg
import structlog
from sqlalchemy import Row, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.db.driver import driver_connection
from callrouter.identity.errors import AccountNotFound
from callrouter.identity.models import Account
from callrouter.identity.service import IdentityService, NewAccount
from callrouter.ledger.codes import generate_recharge_code, hash_recharge_code
from callrouter.ledger.config import MAX_POINTS, LedgerConfig
from callrouter.ledger.errors import (
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidAmount,
    InvalidRequest,
    RechargeCodeAlreadyRedeemed,
    RechargeCodeExpired,
    UnknownIncident,
    UnknownRechargeCode,
)
from callrouter.ledger.models import (
    CALL_REFERENCE_LENGTH,
    IDEMPOTENCY_KEY_LENGTH,
    Incident,
    IncidentEvent,
    Movement,
    RechargeCode,
)
from callrouter.ledger.prices import (
    ON_QUOTE,
    AssistanceLevel,
    Classification,
    OnQuote,
    Points,
    Price,
    points_due,
)
from callrouter.passes import Pass

log = structlog.get_logger(__name__)

# A row of a Core select: columns are read by name.
_Row: TypeAlias = Row[*tuple[Any, ...]]

MAX_CODES_PER_BATCH = 10_000
_OPEN_KEY_PREFIX = "incident-open:"
#: Room is left for the prefix the ledger puts before a caller's key in a movement's key.
MAX_KEY_LENGTH = IDEMPOTENCY_KEY_LENGTH - len(_OPEN_KEY_PREFIX)
T = TypeVar("T")


def _table(model: type[Any]) -> Table:
    table: Table = model.metadata.tables[model.__tablename__]
    return table


_ACCOUNTS = _table(Account)
_MOVEMENTS = _table(Movement)
_CODES = _table(RechargeCode)
_INCIDENTS = _table(Incident)
_EVENTS = _table(IncidentEvent)


class MovementKind(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class IncidentEventKind(enum.StrEnum):
    CALL = "call"
    RECLASSIFIED = "reclassified"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OpenedIncident:
    """`price` is what the list says; `debited` what left the account (0 for a quote);
    `balance` the balance right after. `replayed`: an earlier request with the same key had
    already opened it, and these are its figures."""

    incident_id: int
    account_number: str
    price: Price
    debited: Points
    balance: Points
    replayed: bool


@dataclass(frozen=True)
class Refund:
    """An incident's refund. `replayed`: it had already been refunded (by this request or
    another one) and nothing moved this time."""

    incident_id: int
    account_number: str
    points: Points
    refunded_at: datetime
    replayed: bool


@dataclass(frozen=True)
class AttachedCall:
    incident_id: int
    call: str
    replayed: bool


@dataclass(frozen=True)
class Posting:
    """A movement written (or found again, `replayed`) and the balance right after it."""

    movement_id: int
    account_number: str
    kind: MovementKind
    amount: Points
    balance: Points
    replayed: bool


@dataclass(frozen=True)
class Redemption:
    account_number: str
    pack_reference: str
    points: Points
    balance: Points
    replayed: bool


@dataclass(frozen=True)
class IssuedCode:
    """A recharge code in clear: returned once at issue, only its hash is kept."""

    code: str
    pack_reference: str
    points: Points
    expires_at: datetime


@dataclass(frozen=True)
class MovementView:
    id: int
    kind: MovementKind
    amount: Points
    balance_after: Points
    created_at: datetime
    reason: str
    reference: str


@dataclass(frozen=True)
class Statement:
    account_number: str
    balance: Points
    movements: list[MovementView]


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


@dataclass(frozen=True)
class BalanceMismatch:
    """An account whose cached balance is not the sum of its movements."""

    account_number: str
    cached_balance: Points
    movements_sum: Points


# Prepared statements of the hot path: built once, so each call only binds parameters.
_INCIDENT_BY_KEY = select(
    _INCIDENTS.c.id,
    _INCIDENTS.c.price,
    _INCIDENTS.c.debited,
    _INCIDENTS.c.balance_after,
    _INCIDENTS.c.classification,
    _ACCOUNTS.c.number,
).join_from(_INCIDENTS, _ACCOUNTS, _INCIDENTS.c.account_id == _ACCOUNTS.c.id)
_INCIDENT_BY_KEY = _INCIDENT_BY_KEY.where(_INCIDENTS.c.open_key == bindparam("key"))
_LOCK_ACCOUNT_BY_NUMBER = (
    select(_ACCOUNTS.c.id, _ACCOUNTS.c.balance)
    .where(_ACCOUNTS.c.number == bindparam("number"))
    .with_for_update()
)
# The key look-up rides on the lock statement: one round trip instead of two. A request with
# the same key committed while we waited for the lock is caught by the unique key instead.
_LOCK_ACCOUNT_FOR_OPENING = (
    select(
        _ACCOUNTS.c.id,
        _ACCOUNTS.c.balance,
        select(_INCIDENTS.c.id)
        .where(_INCIDENTS.c.open_key == bindparam("key"))
        .scalar_subquery()
        .label("earlier"),
    )
    .where(_ACCOUNTS.c.number == bindparam("number"))
    .with_for_update(of=_ACCOUNTS)
)
_LOCK_ACCOUNT_BY_ID = (
    select(_ACCOUNTS.c.number, _ACCOUNTS.c.balance)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .with_for_update()
)
# The whole opening on PostgreSQL, in one statement and so one round trip: the same steps
# as the portable path below, in the same order. The account row is locked first (after
# waiting for a concurrent debit, FOR UPDATE returns its committed balance, and the UPDATE
# at the end follows that same row version); the key look-up reads the statement's
# snapshot, so a request with the same key committed while we waited for the lock is caught
# by the unique key instead, as on the portable path. Every data-modifying CTE runs whether
# or not the final SELECT reads it; each inserts nothing unless an incident was opened.
_OPEN_ON_POSTGRES = """
WITH account AS (
    SELECT id, balance FROM accounts WHERE number = $1 FOR UPDATE
), earlier AS (
    SELECT incidents.id, incidents.price, incidents.debited, incidents.balance_after,
        accounts.number
    FROM incidents JOIN accounts ON accounts.id = incidents.account_id
    WHERE incidents.open_key = $2
), incident AS (
    INSERT INTO incidents (account_id, level, chosen_pass, third_party, emergency,
        classification, price, debited, balance_after, summary, opening_call, opened_at,
        open_key, refunded_at)
    SELECT id, $4, $5, $6, $7, $8, $9, $3::integer, balance - $3::integer, $10, $11, $12,
        $2, NULL
    FROM account
    WHERE balance >= $3::integer AND NOT EXISTS (SELECT FROM earlier)
    RETURNING id, account_id, balance_after
), movement AS (
    INSERT INTO ledger_movements (account_id, kind, amount, balance_after, created_at, reason,
        reference, incident_id, recharge_code_id, idempotency_key)
    SELECT account_id, 'debit', -$3::integer, balance_after, $12, $13,
        'incident ' || id, id, NULL, $14
    FROM incident
    WHERE $3::integer > 0
), cached_balance AS (
    UPDATE accounts SET balance = incident.balance_after
    FROM incident
    WHERE accounts.id = incident.account_id AND $3::integer > 0
)
SELECT account.balance, incident.id AS incident_id, earlier.id AS earlier_id,
    earlier.price AS earlier_price, earlier.debited AS earlier_debited,
    earlier.balance_after AS earlier_balance, earlier.number AS earlier_number
FROM (VALUES (1)) AS one (n)
    LEFT JOIN account ON true
    LEFT JOIN incident ON true
    LEFT JOIN earlier ON true
"""
_INSERT_INCIDENT = insert(_INCIDENTS).returning(_INCIDENTS.c.id)
_INSERT_MOVEMENT = insert(_MOVEMENTS).returning(_MOVEMENTS.c.id)
_SET_BALANCE = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("account_id"))
    .values(balance=bindparam("balance"))
)


class LedgerService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, config: LedgerConfig
    ) -> None:
        self._sessions = sessions
        # The hot path runs on the engine's connections directly: a session's bookkeeping
        # costs about as much CPU as one more statement.
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the ledger needs sessions bound to an AsyncEngine")
        self._engine = engine
        self._on_postgres = engine.dialect.name == "postgresql"
        self._clock = clock
        self._config = config

    @property
    def config(self) -> LedgerConfig:
        return self._config

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._sessions

    # Reads

    async def balance(self, account_number: str) -> Points:
        async with self._sessions() as session:
            balance = await session.scalar(
                select(_ACCOUNTS.c.balance).where(_ACCOUNTS.c.number == account_number)
            )
        if balance is None:
            raise AccountNotFound(account_number)
        return int(balance)

    async def statement(self, account_number: str) -> Statement:
        """The account's movements, oldest first, and its balance."""
        async with self._sessions() as session:
            account = (
                await session.execute(
                    select(_ACCOUNTS.c.id, _ACCOUNTS.c.balance).where(
                        _ACCOUNTS.c.number == account_number
                    )
                )
            ).first()
            if account is None:
                raise AccountNotFound(account_number)
            rows = (
                await session.execute(
                    select(_MOVEMENTS)
                    .where(_MOVEMENTS.c.account_id == account.id)
                    .order_by(_MOVEMENTS.c.id)
                )
            ).all()
        return Statement(
            account_number=account_number,
            balance=account.balance,
            movements=[
                MovementView(
                    id=row.id,
                    kind=MovementKind(row.kind),
                    amount=row.amount,
                    balance_after=row.balance_after,
                    created_at=row.created_at,
                    reason=row.reason,
                    reference=row.reference,
                )
                for row in rows
            ],
        )

    async def incident(self, incident_id: int) -> IncidentView:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(_INCIDENTS, _ACCOUNTS.c.number)
                    .join_from(_INCIDENTS, _ACCOUNTS, _INCIDENTS.c.account_id == _ACCOUNTS.c.id)
                    .where(_INCIDENTS.c.id == incident_id)
                )
            ).first()
            if row is None:
                raise UnknownIncident(incident_id)
            events = (
                await session.execute(
                    select(_EVENTS)
                    .where(_EVENTS.c.incident_id == incident_id)
                    .order_by(_EVENTS.c.id)
                )
            ).all()
        return IncidentView(
            id=row.id,
            account_number=row.number,
            level=AssistanceLevel(row.level),
            chosen_pass=Pass(row.chosen_pass),
            third_party=row.third_party,
            emergency=row.emergency,
            classification=Classification(row.classification),
            price=ON_QUOTE if row.price is None else row.price,
            debited=row.debited,
            summary=row.summary,
            opening_call=row.opening_call,
            opened_at=row.opened_at,
            refunded_at=row.refunded_at,
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

    async def check(self) -> list[BalanceMismatch]:
        """Every account whose cached balance differs from the sum of its movements."""
        sums = (
            select(_MOVEMENTS.c.account_id, func.sum(_MOVEMENTS.c.amount).label("total"))
            .group_by(_MOVEMENTS.c.account_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        query = (
            select(_ACCOUNTS.c.number, _ACCOUNTS.c.balance, total.label("total"))
            .join_from(_ACCOUNTS, sums, sums.c.account_id == _ACCOUNTS.c.id, isouter=True)
            .where(_ACCOUNTS.c.balance != total)
            .order_by(_ACCOUNTS.c.number)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [BalanceMismatch(row.number, row.balance, int(row.total)) for row in rows]

    # Incidents

    async def open_incident(
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
    ) -> OpenedIncident:
        """Open an incident and debit its price, in one transaction.

        Raises EmergencyUnavailable (emergency without a pass that opens it),
        AccountNotFound, or InsufficientBalance (then nothing is opened nor debited).
        The same `idempotency_key` again returns the first result and changes nothing.
        """
        _check_key(idempotency_key)
        price = self._config.prices.price(
            level=level,
            pass_=pass_,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
        )
        due = points_due(price)
        now = self._clock.now()

        async def replay() -> OpenedIncident | None:
            async with self._sessions() as session:
                connection = await session.connection()
                return await _opened_by_key(connection, idempotency_key, account_number)

        async def work() -> OpenedIncident:
            if self._on_postgres:
                return await self._open_on_postgres(
                    account_number,
                    idempotency_key,
                    price,
                    due,
                    (
                        level.value,
                        pass_.value,
                        third_party,
                        emergency,
                        classification.value,
                        None if isinstance(price, OnQuote) else due,
                        summary,
                        _call_reference(call),
                        now,
                        f"incident opened: {_describe(level, pass_, third_party, emergency)}",
                        f"{_OPEN_KEY_PREFIX}{idempotency_key}",
                    ),
                )
            async with self._engine.begin() as connection:
                account = (
                    await connection.execute(
                        _LOCK_ACCOUNT_FOR_OPENING,
                        {"number": account_number, "key": idempotency_key},
                    )
                ).first()
                if account is None:
                    raise AccountNotFound(account_number)
                if account.earlier is not None:
                    earlier = await _opened_by_key(connection, idempotency_key, account_number)
                    if earlier is not None:
                        return earlier
                if account.balance < due:
                    raise InsufficientBalance(account_number, account.balance, due)
                balance = account.balance - due
                incident_id: int = (
                    await connection.execute(
                        _INSERT_INCIDENT,
                        {
                            "account_id": account.id,
                            "level": level.value,
                            "chosen_pass": pass_.value,
                            "third_party": third_party,
                            "emergency": emergency,
                            "classification": classification.value,
                            "price": None if isinstance(price, OnQuote) else due,
                            "debited": due,
                            "balance_after": balance,
                            "summary": summary,
                            "opening_call": _call_reference(call),
                            "opened_at": now,
                            "open_key": idempotency_key,
                            "refunded_at": None,
                        },
                    )
                ).scalar_one()
                if due:
                    description = _describe(level, pass_, third_party, emergency)
                    await _write_movement(
                        connection,
                        account_id=account.id,
                        kind=MovementKind.DEBIT,
                        amount=-due,
                        balance=balance,
                        at=now,
                        reason=f"incident opened: {description}",
                        reference=f"incident {incident_id}",
                        incident_id=incident_id,
                        key=f"{_OPEN_KEY_PREFIX}{idempotency_key}",
                    )
            return OpenedIncident(incident_id, account_number, price, due, balance, replayed=False)

        opened = await _idempotent(work, replay)
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
        _check_key(idempotency_key)
        reference = _call_reference(call)
        if reference is None:
            raise InvalidRequest("a call reference (e.g. the channel's Uniqueid) is needed")

        async def replay() -> AttachedCall | None:
            async with self._sessions() as session:
                event = await _event_by_key(await session.connection(), idempotency_key)
            if event is None:
                return None
            _same_incident(event, incident_id, idempotency_key)
            return AttachedCall(incident_id, event.call or "", replayed=True)

        async def work() -> AttachedCall:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                if await _incident_account(connection, incident_id) is None:
                    raise UnknownIncident(incident_id)
                await _write_event(
                    connection,
                    incident_id,
                    IncidentEventKind.CALL,
                    at=self._clock.now(),
                    detail="further call on the incident, no charge",
                    call=reference,
                    key=idempotency_key,
                )
            return AttachedCall(incident_id, reference, replayed=False)

        return await _idempotent_checked(work, replay)

    async def refund_incident(self, incident_id: int, reason: str, idempotency_key: str) -> Refund:
        """Refund the points the incident cost, in full, once per incident whatever the
        reason (a broken guarantee, a reclassification): a second refund returns the first
        one and moves nothing."""
        _check_key(idempotency_key)

        async def replay() -> Refund | None:
            return await self._replayed_refund(incident_id, idempotency_key)

        async def work() -> Refund:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                return await self._refund(connection, incident_id, reason, idempotency_key)

        return await _idempotent_checked(work, replay)

    async def _replayed_refund(self, incident_id: int, idempotency_key: str) -> Refund | None:
        """The refund an earlier request with this key led to, if there was one."""
        async with self._sessions() as session:
            connection = await session.connection()
            event = await _event_by_key(connection, idempotency_key)
            if event is None:
                return None
            _same_incident(event, incident_id, idempotency_key)
            return await _existing_refund(connection, incident_id)

    async def reclassify_non_attributable(
        self, incident_id: int, reason: str, idempotency_key: str
    ) -> Refund:
        """Classify the incident non-attributable ("Assistance non imputable: Offert") and
        refund it in full, unless it was refunded already. Doing it again moves nothing."""
        _check_key(idempotency_key)

        async def replay() -> Refund | None:
            return await self._replayed_refund(incident_id, idempotency_key)

        async def work() -> Refund:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                incident, _ = await _lock_incident(connection, incident_id)
                if incident.classification == Classification.NON_ATTRIBUTABLE:
                    refund = await _existing_refund(connection, incident_id)
                    if refund is not None:
                        return refund
                else:
                    await connection.execute(
                        update(_INCIDENTS)
                        .where(_INCIDENTS.c.id == incident_id)
                        .values(classification=Classification.NON_ATTRIBUTABLE.value)
                    )
                    await _write_event(
                        connection,
                        incident_id,
                        IncidentEventKind.RECLASSIFIED,
                        at=self._clock.now(),
                        detail=f"{incident.classification} -> non-attributable: {reason}",
                        key=idempotency_key,
                    )
                return await self._refund(
                    connection, incident_id, f"non-attributable: {reason}", None
                )

        return await _idempotent_checked(work, replay)

    # Credits and recharge codes

    async def credit(
        self,
        account_number: str,
        points: Points,
        *,
        reason: str,
        idempotency_key: str,
        reference: str = "",
    ) -> Posting:
        """Credit points ordered directly, e.g. a pack ordered with the account number
        ("préciser dans la commande le numéro de compte")."""
        if not 0 < points <= MAX_POINTS:
            raise InvalidAmount(f"a credit is 1 to {MAX_POINTS} points, not {points}")
        return await self._post(
            account_number, MovementKind.CREDIT, points, reason, reference, idempotency_key
        )

    async def adjust(
        self, account_number: str, amount: Points, *, reason: str, idempotency_key: str
    ) -> Posting:
        """An operator's correction, up or down; it cannot take the balance below zero."""
        if amount == 0 or abs(amount) > MAX_POINTS:
            raise InvalidAmount(f"an adjustment is 1 to {MAX_POINTS} points either way")
        return await self._post(
            account_number, MovementKind.ADJUSTMENT, amount, reason, "", idempotency_key
        )

    async def issue_codes(
        self, pack_reference: str, count: int, *, validity: timedelta | None = None
    ) -> list[IssuedCode]:
        """Draw `count` one-time codes for a pack; only their hashes are stored."""
        pack = self._config.packs.pack(pack_reference)
        if not 0 < count <= MAX_CODES_PER_BATCH:
            raise InvalidAmount(f"issue 1 to {MAX_CODES_PER_BATCH} codes at a time, not {count}")
        lifetime = validity if validity is not None else self._config.code_validity
        if lifetime <= timedelta(0):
            raise InvalidAmount("a recharge code must stay valid for some time")
        now = self._clock.now()
        expires_at = now + lifetime
        codes = [generate_recharge_code() for _ in range(count)]
        async with self._sessions.begin() as session:
            connection = await session.connection()
            await connection.execute(
                insert(_CODES),
                [
                    {
                        "code_hash": hash_recharge_code(code),
                        "pack_reference": pack.reference,
                        "points": pack.points,
                        "issued_at": now,
                        "expires_at": expires_at,
                        "redeemed_at": None,
                        "redeemed_by": None,
                    }
                    for code in codes
                ],
            )
        log.info("ledger.codes_issued", pack=pack.reference, count=count, expires_at=expires_at)
        return [IssuedCode(code, pack.reference, pack.points, expires_at) for code in codes]

    async def redeem_code(self, account_number: str, code: str) -> Redemption:
        """Credit the account with the code's pack, exactly once. The same account entering
        the same code again gets the first result back; any other use is refused."""
        code_hash = hash_recharge_code(code)

        async def work() -> Redemption:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                found = (
                    await connection.execute(
                        select(_CODES).where(_CODES.c.code_hash == code_hash).with_for_update()
                    )
                ).first()
                if found is None:
                    raise UnknownRechargeCode()
                if found.redeemed_at is not None:
                    return await _earlier_redemption(connection, found, account_number)
                now = self._clock.now()
                if found.expires_at <= now:
                    raise RechargeCodeExpired(found.expires_at)
                account = (
                    await connection.execute(_LOCK_ACCOUNT_BY_NUMBER, {"number": account_number})
                ).first()
                if account is None:
                    raise AccountNotFound(account_number)
                balance = account.balance + found.points
                await _write_movement(
                    connection,
                    account_id=account.id,
                    kind=MovementKind.CREDIT,
                    amount=found.points,
                    balance=balance,
                    at=now,
                    reason=f"recharge code of pack {found.pack_reference}",
                    reference=f"pack {found.pack_reference}, code #{found.id}",
                    recharge_code_id=found.id,
                    key=f"recharge-code:{found.id}",
                )
                await connection.execute(
                    update(_CODES)
                    .where(_CODES.c.id == found.id)
                    .values(redeemed_at=now, redeemed_by=account.id)
                )
            log.info(
                "ledger.code_redeemed", account=account_number, code_id=found.id, balance=balance
            )
            return Redemption(
                account_number, found.pack_reference, found.points, balance, replayed=False
            )

        async def replay() -> Redemption | None:
            # Reached only when a racing redemption committed first; `work` then reads it.
            return await work()

        return await _idempotent(work, replay)

    async def redeem_code_opening_account(
        self, code: str, holder_name: str, identity: IdentityService
    ) -> tuple[NewAccount, Redemption]:
        """A first order paid with a recharge code: open the account ("A la première commande
        est créé un compte"), then credit it. The code is checked first, so a bad code
        opens nothing; only a code redeemed by someone else in between leaves an empty
        account behind, and that is reported as the code being used."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(_CODES.c.expires_at, _CODES.c.redeemed_at).where(
                        _CODES.c.code_hash == hash_recharge_code(code)
                    )
                )
            ).first()
        if found is None:
            raise UnknownRechargeCode()
        if found.redeemed_at is not None:
            raise RechargeCodeAlreadyRedeemed(found.redeemed_at)
        if found.expires_at <= self._clock.now():
            raise RechargeCodeExpired(found.expires_at)
        account = await identity.create_account(holder_name)
        return account, await self.redeem_code(account.number, code)

    # Internals

    async def _open_on_postgres(
        self,
        account_number: str,
        key: str,
        price: Price,
        due: Points,
        columns: tuple[object, ...],
    ) -> OpenedIncident:
        """open_incident's work in one statement, `_OPEN_ON_POSTGRES`, sent on the driver's
        connection as a prepared statement (asyncpg caches it per connection): through
        SQLAlchemy, each statement costs more client CPU than the database's work.
        `columns` are that statement's parameters after the first three."""
        async with driver_connection(self._engine) as driver:
            try:
                # No BEGIN: a single statement is its own transaction.
                row = await driver.fetchrow(_OPEN_ON_POSTGRES, account_number, key, due, *columns)
            except asyncpg.UniqueViolationError as error:
                # A racing request with the same key committed first: `_idempotent` replays it.
                raise IntegrityError(_OPEN_ON_POSTGRES, None, error) from error
        if row["balance"] is None:
            raise AccountNotFound(account_number)
        if row["earlier_id"] is not None:
            if row["earlier_number"] != account_number:
                raise IdempotencyKeyReused(key, f"incident {row['earlier_id']} of another account")
            return OpenedIncident(
                incident_id=row["earlier_id"],
                account_number=account_number,
                price=ON_QUOTE if row["earlier_price"] is None else row["earlier_price"],
                debited=row["earlier_debited"],
                balance=row["earlier_balance"],
                replayed=True,
            )
        if row["incident_id"] is None:
            raise InsufficientBalance(account_number, row["balance"], due)
        return OpenedIncident(
            row["incident_id"], account_number, price, due, row["balance"] - due, replayed=False
        )

    async def _post(
        self,
        account_number: str,
        kind: MovementKind,
        amount: Points,
        reason: str,
        reference: str,
        idempotency_key: str,
    ) -> Posting:
        _check_key(idempotency_key)
        key = f"{kind.value}:{idempotency_key}"

        async def replay() -> Posting | None:
            async with self._sessions() as session:
                return await _posting_by_key(
                    await session.connection(), key, account_number, amount
                )

        async def work() -> Posting:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                earlier = await _posting_by_key(connection, key, account_number, amount)
                if earlier is not None:
                    return earlier
                account = (
                    await connection.execute(_LOCK_ACCOUNT_BY_NUMBER, {"number": account_number})
                ).first()
                if account is None:
                    raise AccountNotFound(account_number)
                balance = account.balance + amount
                if balance < 0:
                    raise InsufficientBalance(account_number, account.balance, -amount)
                movement_id = await _write_movement(
                    connection,
                    account_id=account.id,
                    kind=kind,
                    amount=amount,
                    balance=balance,
                    at=self._clock.now(),
                    reason=reason,
                    reference=reference,
                    key=key,
                )
            log.info(f"ledger.{kind.value}", account=account_number, amount=amount, balance=balance)
            return Posting(movement_id, account_number, kind, amount, balance, replayed=False)

        return await _idempotent(work, replay)

    async def _refund(
        self, connection: AsyncConnection, incident_id: int, reason: str, key: str | None
    ) -> Refund:
        incident, account = await _lock_incident(connection, incident_id)
        if incident.refunded_at is not None:
            return Refund(incident_id, account.number, incident.debited, incident.refunded_at, True)
        now = self._clock.now()
        if incident.debited:
            await _write_movement(
                connection,
                account_id=incident.account_id,
                kind=MovementKind.REFUND,
                amount=incident.debited,
                balance=account.balance + incident.debited,
                at=now,
                reason=reason,
                reference=f"incident {incident_id}",
                incident_id=incident_id,
                key=f"incident-refund:{incident_id}",
            )
        await connection.execute(
            update(_INCIDENTS).where(_INCIDENTS.c.id == incident_id).values(refunded_at=now)
        )
        await _write_event(
            connection,
            incident_id,
            IncidentEventKind.REFUNDED,
            at=now,
            detail=f"{incident.debited} points refunded: {reason}",
            key=key,
        )
        log.info(
            "ledger.incident_refunded",
            incident=incident_id,
            account=account.number,
            points=incident.debited,
            reason=reason,
        )
        return Refund(incident_id, account.number, incident.debited, now, replayed=False)


async def _lock_incident(connection: AsyncConnection, incident_id: int) -> tuple[_Row, _Row]:
    """The incident and its account (number, balance), read after locking the account: every
    change of that account and its incidents waits for us, and we see the last one's result."""
    account_id = await _incident_account(connection, incident_id)
    if account_id is None:
        raise UnknownIncident(incident_id)
    account = (await connection.execute(_LOCK_ACCOUNT_BY_ID, {"account_id": account_id})).one()
    incident = (
        await connection.execute(select(_INCIDENTS).where(_INCIDENTS.c.id == incident_id))
    ).one()
    return incident, account


async def _idempotent(
    work: Callable[[], Awaitable[T]], replay: Callable[[], Awaitable[T | None]]
) -> T:
    """Run `work`; if it lost a race to the same request (a unique key violation), the
    transaction was rolled back and the winner's result is returned instead."""
    try:
        return await work()
    except IntegrityError:
        earlier = await replay()
        if earlier is None:
            raise
        return earlier


async def _idempotent_checked(
    work: Callable[[], Awaitable[T]], replay: Callable[[], Awaitable[T | None]]
) -> T:
    """As _idempotent, for requests whose key is looked up before doing anything."""
    earlier = await replay()
    if earlier is not None:
        return earlier
    return await _idempotent(work, replay)


async def _opened_by_key(
    connection: AsyncConnection, key: str, account_number: str
) -> OpenedIncident | None:
    row = (await connection.execute(_INCIDENT_BY_KEY, {"key": key})).first()
    if row is None:
        return None
    if row.number != account_number:
        raise IdempotencyKeyReused(key, f"incident {row.id} of another account")
    return OpenedIncident(
        incident_id=row.id,
        account_number=row.number,
        price=ON_QUOTE if row.price is None else row.price,
        debited=row.debited,
        balance=row.balance_after,
        replayed=True,
    )


async def _posting_by_key(
    connection: AsyncConnection, key: str, account_number: str, amount: Points
) -> Posting | None:
    row = (
        await connection.execute(
            select(_MOVEMENTS, _ACCOUNTS.c.number)
            .join_from(_MOVEMENTS, _ACCOUNTS, _MOVEMENTS.c.account_id == _ACCOUNTS.c.id)
            .where(_MOVEMENTS.c.idempotency_key == key)
        )
    ).first()
    if row is None:
        return None
    if row.number != account_number or row.amount != amount:
        raise IdempotencyKeyReused(key, f"{row.amount} points on account {row.number}")
    return Posting(row.id, row.number, MovementKind(row.kind), row.amount, row.balance_after, True)


async def _earlier_redemption(
    connection: AsyncConnection, code: _Row, account_number: str
) -> Redemption:
    """The code was used: by this account, that was this very redemption (a replay)."""
    row = (
        await connection.execute(
            select(_MOVEMENTS.c.balance_after, _ACCOUNTS.c.number)
            .join_from(_MOVEMENTS, _ACCOUNTS, _MOVEMENTS.c.account_id == _ACCOUNTS.c.id)
            .where(_MOVEMENTS.c.recharge_code_id == code.id)
        )
    ).one()
    if row.number != account_number:
        raise RechargeCodeAlreadyRedeemed(code.redeemed_at)
    return Redemption(account_number, code.pack_reference, code.points, row.balance_after, True)


async def _existing_refund(connection: AsyncConnection, incident_id: int) -> Refund | None:
    row = (
        await connection.execute(
            select(_INCIDENTS.c.debited, _INCIDENTS.c.refunded_at, _ACCOUNTS.c.number)
            .join_from(_INCIDENTS, _ACCOUNTS, _INCIDENTS.c.account_id == _ACCOUNTS.c.id)
            .where(_INCIDENTS.c.id == incident_id)
        )
    ).first()
    if row is None:
        raise UnknownIncident(incident_id)
    if row.refunded_at is None:
        return None
    return Refund(incident_id, row.number, row.debited, row.refunded_at, replayed=True)


async def _incident_account(connection: AsyncConnection, incident_id: int) -> int | None:
    account_id: int | None = await connection.scalar(
        select(_INCIDENTS.c.account_id).where(_INCIDENTS.c.id == incident_id)
    )
    return account_id


async def _event_by_key(connection: AsyncConnection, key: str) -> _Row | None:
    return (
        await connection.execute(select(_EVENTS).where(_EVENTS.c.idempotency_key == key))
    ).first()


def _same_incident(event: _Row, incident_id: int, key: str) -> None:
    if event.incident_id != incident_id:
        raise IdempotencyKeyReused(key, f"incident {event.incident_id}")


async def _write_movement(
    connection: AsyncConnection,
    *,
    account_id: int,
    kind: MovementKind,
    amount: Points,
    balance: Points,
    at: datetime,
    reason: str,
    reference: str,
    key: str,
    incident_id: int | None = None,
    recharge_code_id: int | None = None,
) -> int:
    """Append a movement and write the account's cached balance, in the caller's
    transaction, which holds the account's lock."""
    movement_id: int = (
        await connection.execute(
            _INSERT_MOVEMENT,
            {
                "account_id": account_id,
                "kind": kind.value,
                "amount": amount,
                "balance_after": balance,
                "created_at": at,
                "reason": reason,
                "reference": reference,
                "incident_id": incident_id,
                "recharge_code_id": recharge_code_id,
                "idempotency_key": key,
            },
        )
    ).scalar_one()
    await connection.execute(_SET_BALANCE, {"account_id": account_id, "balance": balance})
    return movement_id


async def _write_event(
    connection: AsyncConnection,
    incident_id: int,
    kind: IncidentEventKind,
    *,
    at: datetime,
    detail: str,
    call: str | None = None,
    key: str | None,
) -> None:
    await connection.execute(
        insert(_EVENTS).values(
            incident_id=incident_id,
            kind=kind.value,
            at=at,
            detail=detail,
            call=call,
            idempotency_key=key,
        )
    )


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters: {key!r}")


def _call_reference(call: str | None) -> str | None:
    if call is None or not call.strip():
        return None
    return call.strip()[:CALL_REFERENCE_LENGTH]


def _describe(level: AssistanceLevel, pass_: Pass, third_party: bool, emergency: bool) -> str:
    parts = ["emergency" if emergency else f"{level.value} assistance", f"pass {pass_.value}"]
    if third_party and not emergency:
        parts.append("third-party product")
    return ", ".join(parts)
