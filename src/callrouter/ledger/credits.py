"""Points credited directly and operators' corrections: one movement each, by key."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.amounts import whole_points
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.errors import IdempotencyKeyReused, InsufficientBalance
from callrouter.ledger.idempotency import check_key, idempotent
from callrouter.ledger.postings import LOCK_ACCOUNT_BY_NUMBER, MovementKind, Posting, write_movement
from callrouter.ledger.prices import Points
from callrouter.ledger.tables import ACCOUNTS, MOVEMENTS

log = structlog.get_logger(__name__)


class Credits:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

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
        points = whole_points(points, "a credit")
        return await self._post(
            account_number, MovementKind.CREDIT, points, reason, reference, idempotency_key
        )

    async def adjust(
        self, account_number: str, amount: Points, *, reason: str, idempotency_key: str
    ) -> Posting:
        """An operator's correction, up or down; it cannot take the balance below zero."""
        amount = whole_points(amount, "an adjustment", signed=True)
        return await self._post(
            account_number, MovementKind.ADJUSTMENT, amount, reason, "", idempotency_key
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
        check_key(idempotency_key)
        key = f"{kind.value}:{idempotency_key}"
        sessions = self._context.sessions

        async def replay() -> Posting | None:
            async with sessions() as session:
                return await _posting_by_key(
                    await session.connection(), key, account_number, amount
                )

        async def work() -> Posting:
            async with sessions.begin() as session:
                connection = await session.connection()
                earlier = await _posting_by_key(connection, key, account_number, amount)
                if earlier is not None:
                    return earlier
                account = (
                    await connection.execute(LOCK_ACCOUNT_BY_NUMBER, {"number": account_number})
                ).first()
                if account is None:
                    raise AccountNotFound(account_number)
                balance = account.balance + amount
                if balance < account.held:
                    # Held points are promised to an emergency call: not spendable.
                    raise InsufficientBalance(
                        account_number, account.balance - account.held, -amount
                    )
                movement_id = await write_movement(
                    connection,
                    account_id=account.id,
                    kind=kind,
                    amount=amount,
                    balance=balance,
                    at=self._context.clock.now(),
                    reason=reason,
                    reference=reference,
                    key=key,
                )
            log.info(f"ledger.{kind.value}", account=account_number, amount=amount, balance=balance)
            return Posting(movement_id, account_number, kind, amount, balance, replayed=False)

        return await idempotent(work, replay)


async def _posting_by_key(
    connection: AsyncConnection, key: str, account_number: str, amount: Points
) -> Posting | None:
    row = (
        await connection.execute(
            select(MOVEMENTS, ACCOUNTS.c.number)
            .join_from(MOVEMENTS, ACCOUNTS, MOVEMENTS.c.account_id == ACCOUNTS.c.id)
            .where(MOVEMENTS.c.idempotency_key == key)
        )
    ).first()
    if row is None:
        return None
    if row.number != account_number or row.amount != amount:
        raise IdempotencyKeyReused(key, f"{row.amount} points on account {row.number}")
    return Posting(row.id, row.number, MovementKind(row.kind), row.amount, row.balance_after, True)
