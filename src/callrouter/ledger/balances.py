"""Reading balances: an account's balance, its statement, and the proof that they agree.

`accounts.balance` is a cache of the sum of the account's movements, written in the same
transaction as each movement; `Balances.check` proves it (`callrouter ledger check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Row, case, cast, func, or_, select

from callrouter.identity.errors import AccountNotFound
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.models import Movement
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
    incident_id: int | None


@dataclass(frozen=True)
class Statement:
    account_number: str
    balance: Points
    movements: list[MovementView]
    #: Points held for emergency calls in progress (callrouter.ledger.holds): part of the
    #: balance, not spendable until their calls end.
    held: Points = 0


@dataclass(frozen=True)
class BalanceMismatch:
    """An account whose cached balance is not exactly the sum of its movements, or whose
    figures are not whole points (a fraction can only have been written outside the
    ledger: SQLite keeps 34.5 in an INTEGER column). The figures are as stored."""

    account_number: str
    cached_balance: Decimal
    movements_sum: Decimal
    #: How many of the account's movements are not a whole number of points.
    fractional_movements: int = 0


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
                    select(ACCOUNTS.c.id, ACCOUNTS.c.balance, ACCOUNTS.c.held).where(
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
            movements=[movement_view(row) for row in rows],
            held=account.held,
        )

    async def check(self) -> list[BalanceMismatch]:
        """Every account whose cached balance differs from the sum of its movements, or
        where a balance or a movement is not a whole number of points."""
        fractional = case((MOVEMENTS.c.amount != cast(MOVEMENTS.c.amount, Integer), 1), else_=0)
        sums = (
            select(
                MOVEMENTS.c.account_id,
                func.sum(MOVEMENTS.c.amount).label("total"),
                func.sum(fractional).label("fractional"),
            )
            .group_by(MOVEMENTS.c.account_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        fractional_count = func.coalesce(sums.c.fractional, 0)
        query = (
            select(
                ACCOUNTS.c.number,
                ACCOUNTS.c.balance,
                total.label("total"),
                fractional_count.label("fractional"),
            )
            .join_from(ACCOUNTS, sums, sums.c.account_id == ACCOUNTS.c.id, isouter=True)
            .where(
                or_(
                    ACCOUNTS.c.balance != total,
                    ACCOUNTS.c.balance != cast(ACCOUNTS.c.balance, Integer),
                    fractional_count > 0,
                )
            )
            .order_by(ACCOUNTS.c.number)
        )
        async with self._context.sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            BalanceMismatch(row.number, _exact(row.balance), _exact(row.total), row.fractional)
            for row in rows
        ]


def _exact(figure: object) -> Decimal:
    """The figure as stored, not rounded to an int: SQLite hands a REAL back as a float,
    whose shortest repr is the value that was stored."""
    return Decimal(str(figure))


def movement_view(row: Movement | Row[Any]) -> MovementView:
    """A movements row (a Core row or the ORM model) as the domain's types."""
    return MovementView(
        id=row.id,
        kind=MovementKind(row.kind),
        amount=row.amount,
        balance_after=row.balance_after,
        created_at=row.created_at,
        reason=row.reason,
        reference=row.reference,
        incident_id=row.incident_id,
    )
