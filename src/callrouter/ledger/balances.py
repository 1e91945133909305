"""Reading balances: an account's balance, its statement, and the proof that they agree.

`accounts.balance` is a cache of the sum of the account's movements, written in the same
transaction as each movement; `Balances.check` proves it (`callrouter ledger check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.postings import MovementKind
from callrouter.ledger.prices import Points
from callrouter.ledger.tables import ACCOUNTS, MOVEMENTS


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
class BalanceMismatch:
    """An account whose cached balance is not the sum of its movements."""

    account_number: str
    cached_balance: Points
    movements_sum: Points


class Balances:
    def __init__(self, context: LedgerContext) -> None:
        self._context = context

    async def balance(self, account_number: str) -> Points:
        async with self._context.sessions() as session:
            balance = await session.scalar(
                select(ACCOUNTS.c.balance).where(ACCOUNTS.c.number == account_number)
            )
        if balance is None:
            raise AccountNotFound(account_number)
        return int(balance)

    async def statement(self, account_number: str) -> Statement:
        """The account's movements, oldest first, and its balance."""
        async with self._context.sessions() as session:
            account = (
                await session.execute(
                    select(ACCOUNTS.c.id, ACCOUNTS.c.balance).where(
                        ACCOUNTS.c.number == account_number
                    )
                )
            ).first()
            if account is None:
                raise AccountNotFound(account_number)
            rows = (
                await session.execute(
                    select(MOVEMENTS)
                    .where(MOVEMENTS.c.account_id == account.id)
                    .order_by(MOVEMENTS.c.id)
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

    async def check(self) -> list[BalanceMismatch]:
        """Every account whose cached balance differs from the sum of its movements."""
        sums = (
            select(MOVEMENTS.c.account_id, func.sum(MOVEMENTS.c.amount).label("total"))
            .group_by(MOVEMENTS.c.account_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        query = (
            select(ACCOUNTS.c.number, ACCOUNTS.c.balance, total.label("total"))
            .join_from(ACCOUNTS, sums, sums.c.account_id == ACCOUNTS.c.id, isouter=True)
            .where(ACCOUNTS.c.balance != total)
            .order_by(ACCOUNTS.c.number)
        )
        async with self._context.sessions() as session:
            rows = (await session.execute(query)).all()
        return [BalanceMismatch(row.number, row.balance, int(row.total)) for row in rows]
