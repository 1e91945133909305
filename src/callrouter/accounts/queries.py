"""Reads of the ledger's tables that the holder's pages need and the ledger does not offer:
one page of movements or incidents, newest first, filtered.

Keyset pagination on the row id: movements and incidents are appended under the account's
lock, so within an account a higher id is always a later entry, and the (account_id, id)
index serves each page without counting or skipping rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.identity.errors import AccountNotFound
from callrouter.identity.models import Account
from callrouter.ledger.balances import MovementView, movement_view
from callrouter.ledger.incidents import incident_fields
from callrouter.ledger.models import Incident, Movement
from callrouter.ledger.prices import AssistanceLevel, Classification, Price
from callrouter.ledger.service import MovementKind
from callrouter.passes import Pass

T = TypeVar("T")


@dataclass(frozen=True)
class MovementFilter:
    """`since` is inclusive, `until` exclusive; `before_id` is where the previous page ended."""

    kind: MovementKind | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    before_id: int | None = None


@dataclass(frozen=True)
class IncidentEntry:
    id: int
    level: AssistanceLevel
    chosen_pass: Pass
    third_party: bool
    emergency: bool
    classification: Classification
    price: Price
    debited: int
    summary: str
    opened_at: datetime
    refunded_at: datetime | None


@dataclass(frozen=True)
class Page(Generic[T]):
    """`next_before_id` is None on the last page."""

    items: list[T]
    next_before_id: int | None


class AccountQueries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def movements(self, account_number: str, where: MovementFilter) -> Page[MovementView]:
        async with self._sessions() as session:
            account_id = await _account_id(session, account_number)
            query = select(Movement).where(Movement.account_id == account_id)
            if where.kind is not None:
                query = query.where(Movement.kind == where.kind.value)
            if where.since is not None:
                query = query.where(Movement.created_at >= where.since)
            if where.until is not None:
                query = query.where(Movement.created_at < where.until)
            if where.before_id is not None:
                query = query.where(Movement.id < where.before_id)
            # One row more than asked says whether another page follows.
            query = query.order_by(Movement.id.desc()).limit(where.limit + 1)
            rows = (await session.scalars(query)).all()
        items = [movement_view(row) for row in rows[: where.limit]]
        return _paged(items, [row.id for row in rows], where.limit)

    async def incidents(
        self, account_number: str, *, limit: int, before_id: int | None
    ) -> Page[IncidentEntry]:
        async with self._sessions() as session:
            account_id = await _account_id(session, account_number)
            query = select(Incident).where(Incident.account_id == account_id)
            if before_id is not None:
                query = query.where(Incident.id < before_id)
            query = query.order_by(Incident.id.desc()).limit(limit + 1)
            rows = (await session.scalars(query)).all()
        items = [IncidentEntry(**incident_fields(row)) for row in rows[:limit]]
        return _paged(items, [row.id for row in rows], limit)


async def _account_id(session: AsyncSession, account_number: str) -> int:
    account_id = await session.scalar(select(Account.id).where(Account.number == account_number))
    if account_id is None:
        raise AccountNotFound(account_number)
    return account_id


def _paged(items: list[T], ids: list[int], limit: int) -> Page[T]:
    return Page(items=items, next_before_id=ids[limit - 1] if len(ids) > limit else None)
