"""Ledger fixtures: a service on each database (SQLite, then PostgreSQL) and its accounts."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.models import Account
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

MakeAccount = Callable[..., Awaitable[str]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def ledger(database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> LedgerService:
    return LedgerService(database_sessions, clock, LedgerConfig())


@pytest.fixture
def make_account(
    database_sessions: async_sessionmaker[AsyncSession], ledger: LedgerService
) -> MakeAccount:
    """Insert an account (codes are not the ledger's business) and credit its balance."""

    async def make(balance: int = 0) -> str:
        # Random numbers: the PostgreSQL database is shared by the session's tests.
        account_number = str(secrets.randbelow(90_000_000) + 10_000_000)
        async with database_sessions.begin() as session:
            await session.execute(
                insert(Account).values(
                    number=account_number,
                    holder_name=f"Holder {account_number}",
                    pin_hash="-",
                    web_code_hash="-",
                    created_at=START,
                )
            )
        if balance:
            await ledger.credit(
                account_number, balance, reason="opening balance", idempotency_key=account_number
            )
        return account_number

    return make
