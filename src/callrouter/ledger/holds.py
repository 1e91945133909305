"""Emergency holds: place at routing, post when a technician confirms, void otherwise.

Two-phase transfers as TigerBeetle's pending/post/void. Placing a hold adds its amount to
`accounts.held` under the account's row lock, the lock every debit takes
(callrouter.ledger.postings): held points are not spendable by anyone, and the database
refuses `held > balance`. Posting opens the emergency incident and writes its debit
movement, then and only then; voiding gives the points back to what is spendable. Held
points are not movements: the balance is still the sum of the movements.

Each call has at most one hold (its Uniqueid is unique): routing, confirmation and hang-up
replayed change nothing. A further call of the same account while its emergency incident
is still attachable (hold_rules.AttachRule) joins the incident, at no cost and no hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.db.writer import write_transaction
from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.errors import InsufficientBalance, InvalidRequest, LedgerError
from callrouter.ledger.hold_rules import (
    AttachRule,
    HoldMove,
    HoldState,
    MoveOutcome,
    move_outcome,
    state_after,
)
from callrouter.ledger.incident_events import IncidentEventKind, event_by_key, write_event
from callrouter.ledger.incidents import write_incident
from callrouter.ledger.opening import OpeningRequest, call_reference
from callrouter.ledger.postings import (
    LOCK_ACCOUNT_BY_ID,
    LOCK_ACCOUNT_BY_NUMBER,
)
from callrouter.ledger.prices import AssistanceLevel, Classification, Points
from callrouter.ledger.tables import ACCOUNTS, HOLDS, INCIDENTS, LedgerRow
from callrouter.passes import Pass

log = structlog.get_logger(__name__)

EMERGENCY_SUMMARY = "Assistance d'urgence (appel de nuit, week-end ou jour férié)"
#: The key of a further call joining the night's incident, per call.
EMERGENCY_KEY_PREFIX = "emergency-call:"
#: The opening key of the incident a posted hold opens.
POSTED_KEY_PREFIX = "emergency-hold:"


class UnknownHold(LedgerError):
    def __init__(self, call: str) -> None:
        super().__init__(f"no hold for call {call!r}")
        self.call = call


@dataclass(frozen=True)
class HoldPlaced:
    hold_id: int
    call: str
    account_number: str
    amount: Points
    #: Spendable points right after (balance - held).
    available: Points
    replayed: bool


@dataclass(frozen=True)
class JoinedIncident:
    """The call joined the account's open emergency incident: nothing held or debited."""

    incident_id: int
    call: str
    replayed: bool


@dataclass(frozen=True)
class HoldResolved:
    hold_id: int
    call: str
    state: HoldState
    incident_id: int | None
    #: False: the hold had already reached a final state (this or the other one).
    moved: bool


@dataclass(frozen=True)
class PendingHold:
    hold_id: int
    call: str
    account_number: str
    amount: Points
    placed_at: datetime


@dataclass(frozen=True)
class HeldMismatch:
    """An account whose `held` is not the sum of its pending holds, or exceeds its balance."""

    account_number: str
    held: int
    pending_sum: int
    balance: int


_HOLD_BY_CALL = select(HOLDS).where(HOLDS.c.call == bindparam("call"))
_LATEST_EMERGENCY = (
    select(INCIDENTS.c.id, INCIDENTS.c.opened_at)
    .where(
        INCIDENTS.c.account_id == bindparam("account_id"),
        INCIDENTS.c.emergency.is_(True),
        INCIDENTS.c.refunded_at.is_(None),
    )
    .order_by(INCIDENTS.c.id.desc())
    .limit(1)
)
_INSERT_HOLD = insert(HOLDS).returning(HOLDS.c.id)


def _emergency_request(account_number: str, call: str) -> OpeningRequest:
    return OpeningRequest(
        account_number=account_number,
        level=AssistanceLevel.STANDARD,
        pass_=Pass.PRIORITY,
        third_party=False,
        emergency=True,
        classification=Classification.EXPERT,
        summary=EMERGENCY_SUMMARY,
        call=call,
    )


def _reference(call: str) -> str:
    reference = call_reference(call)
    if reference is None:
        raise InvalidRequest("a call reference (the caller's channel Uniqueid) is needed")
    return reference


class Holds:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    async def place(
        self, account_number: str, call: str, *, amount: Points, attach: AttachRule
    ) -> HoldPlaced | JoinedIncident:
        """Hold `amount` for this call, or join the account's attachable emergency incident.

        Raises AccountNotFound, or InsufficientBalance when the spendable points (balance
        minus what other calls hold) cannot cover it: then nothing is held.
        """
        if amount <= 0:
            raise InvalidRequest("a hold is for a positive number of points")
        reference = _reference(call)
        now = self._context.clock.now()
        join_key = f"{EMERGENCY_KEY_PREFIX}{reference}"
        async with write_transaction(self._context.engine) as connection:
            account = (
                await connection.execute(LOCK_ACCOUNT_BY_NUMBER, {"number": account_number})
            ).first()
            if account is None:
                raise AccountNotFound(account_number)
            earlier = (await connection.execute(_HOLD_BY_CALL, {"call": reference})).first()
            if earlier is not None:
                return HoldPlaced(
                    earlier.id,
                    reference,
                    account_number,
                    earlier.amount,
                    account.balance - account.held,
                    replayed=True,
                )
            joined = await event_by_key(connection, join_key)
            if joined is not None:
                return JoinedIncident(joined.incident_id, reference, replayed=True)
            incident = (
                await connection.execute(_LATEST_EMERGENCY, {"account_id": account.id})
            ).first()
            if incident is not None and attach.attaches(incident.opened_at, now):
                await write_event(
                    connection,
                    incident.id,
                    IncidentEventKind.CALL,
                    at=now,
                    detail="further emergency call the same night, no charge",
                    call=reference,
                    key=join_key,
                )
                log.info("ledger.hold_joined", account=account_number, incident=incident.id)
                return JoinedIncident(incident.id, reference, replayed=False)
            available = account.balance - account.held
            if available < amount:
                raise InsufficientBalance(account_number, available, amount)
            hold_id: int = (
                await connection.execute(
                    _INSERT_HOLD,
                    {
                        "account_id": account.id,
                        "call": reference,
                        "amount": amount,
                        "state": HoldState.PENDING.value,
                        "placed_at": now,
                        "resolved_at": None,
                        "outcome": "",
                        "incident_id": None,
                    },
                )
            ).scalar_one()
            await _add_held(connection, account.id, amount)
        log.info("ledger.hold_placed", account=account_number, hold=hold_id, amount=amount)
        return HoldPlaced(
            hold_id, reference, account_number, amount, available - amount, replayed=False
        )

    async def post(self, call: str, *, detail: str) -> HoldResolved:
        """The technician confirmed: the emergency incident opens, debited the held points."""
        return await self._resolve(call, HoldMove.POST, detail)

    async def void(self, call: str, *, reason: str) -> HoldResolved:
        """The caller left unserved: the held points are spendable again."""
        return await self._resolve(call, HoldMove.VOID, reason)

    async def _resolve(self, call: str, move: HoldMove, detail: str) -> HoldResolved:
        reference = _reference(call)
        async with self._context.sessions() as session:
            found = (await session.execute(_HOLD_BY_CALL, {"call": reference})).first()
        if found is None:
            raise UnknownHold(reference)
        now = self._context.clock.now()
        async with write_transaction(self._context.engine) as connection:
            account = (
                await connection.execute(LOCK_ACCOUNT_BY_ID, {"account_id": found.account_id})
            ).one()
            # Read again under the lock: a racing move may have finished meanwhile.
            hold = (await connection.execute(_HOLD_BY_CALL, {"call": reference})).one()
            state = HoldState(hold.state)
            outcome = move_outcome(state, move)
            if outcome is not MoveOutcome.APPLY:
                return HoldResolved(hold.id, reference, state, hold.incident_id, moved=False)
            # `held` goes down first: the CHECK held <= balance holds after each statement.
            await _add_held(connection, hold.account_id, -hold.amount)
            incident_id = None
            if move is HoldMove.POST:
                incident_id = await _open_incident(
                    connection, hold, account.number, account.balance, now
                )
            await connection.execute(
                update(HOLDS)
                .where(HOLDS.c.id == hold.id)
                .values(
                    state=state_after(move).value,
                    resolved_at=now,
                    outcome=detail,
                    incident_id=incident_id,
                )
            )
        log.info(
            f"ledger.hold_{state_after(move).value}",
            hold=hold.id,
            account=account.number,
            amount=hold.amount,
            incident=incident_id,
            detail=detail,
        )
        return HoldResolved(hold.id, reference, state_after(move), incident_id, moved=True)

    async def pending(self) -> list[PendingHold]:
        """Every pending hold, oldest first."""
        async with self._context.sessions() as session:
            rows = (
                await session.execute(
                    select(HOLDS, ACCOUNTS.c.number)
                    .join_from(HOLDS, ACCOUNTS, HOLDS.c.account_id == ACCOUNTS.c.id)
                    .where(HOLDS.c.state == HoldState.PENDING.value)
                    .order_by(HOLDS.c.placed_at, HOLDS.c.id)
                )
            ).all()
        return [
            PendingHold(row.id, row.call, row.number, row.amount, row.placed_at) for row in rows
        ]

    async def check(self) -> list[HeldMismatch]:
        """Accounts whose held points are not exactly their pending holds, or more than
        their balance (spendable below zero)."""
        pending = (
            select(HOLDS.c.account_id, func.sum(HOLDS.c.amount).label("total"))
            .where(HOLDS.c.state == HoldState.PENDING.value)
            .group_by(HOLDS.c.account_id)
            .subquery()
        )
        total = func.coalesce(pending.c.total, 0)
        query = (
            select(ACCOUNTS.c.number, ACCOUNTS.c.held, ACCOUNTS.c.balance, total.label("total"))
            .join_from(ACCOUNTS, pending, pending.c.account_id == ACCOUNTS.c.id, isouter=True)
            .where(or_(ACCOUNTS.c.held != total, ACCOUNTS.c.held > ACCOUNTS.c.balance))
            .order_by(ACCOUNTS.c.number)
        )
        async with self._context.sessions() as session:
            rows = (await session.execute(query)).all()
        return [HeldMismatch(row.number, row.held, int(row.total), row.balance) for row in rows]


async def _add_held(connection: AsyncConnection, account_id: int, amount: Points) -> None:
    await connection.execute(
        update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(held=ACCOUNTS.c.held + amount)
    )


async def _open_incident(
    connection: AsyncConnection,
    hold: LedgerRow,
    account_number: str,
    balance: Points,
    now: datetime,
) -> int:
    """The emergency incident of a posted hold and its debit, written as every opening is."""
    call: str = hold.call
    amount: Points = hold.amount
    request = _emergency_request(account_number, call)
    # Keyed by the hold, not the call: a key an operator once typed by hand for the call
    # cannot stop the confirmed emergency from opening.
    key = f"{POSTED_KEY_PREFIX}{hold.id}"
    return await write_incident(
        connection,
        request,
        account_id=hold.account_id,
        price=amount,
        debited=amount,
        balance_after=balance - amount,
        key=key,
        now=now,
        debit_note=f" (hold {hold.id} posted)",
    )
