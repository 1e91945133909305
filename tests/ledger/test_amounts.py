"""Points are whole numbers: 1.5 or True never reach the database, and `ledger check` sees a
fraction written around the ledger (SQLite keeps 34.5 in an INTEGER column)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.ledger.amounts import whole_points
from callrouter.ledger.config import MAX_POINTS, LedgerConfig
from callrouter.ledger.errors import InvalidAmount
from callrouter.ledger.models import Movement
from callrouter.ledger.service import BalanceMismatch, LedgerService

from .conftest import START, MakeAccount

NOT_WHOLE_POINTS = [1.5, True, False, "10", Decimal("2"), 2.0, None]


@pytest.mark.parametrize("points", NOT_WHOLE_POINTS, ids=repr)
async def test_credits_and_adjustments_take_whole_points_only(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
    points: object,
) -> None:
    account = await make_account(100)

    with pytest.raises(InvalidAmount, match="whole number of points"):
        await ledger.credit(account, points, reason="order", idempotency_key="c")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="whole number of points"):
        await ledger.adjust(account, points, reason="fix", idempotency_key="a")  # type: ignore[arg-type]

    assert await ledger.balance(account) == 100
    async with database_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Movement)) == 1


@pytest.mark.parametrize("count", [True, 1.5])
async def test_codes_are_issued_by_whole_numbers(ledger: LedgerService, count: object) -> None:
    with pytest.raises(InvalidAmount):
        await ledger.issue_codes("FSACSP50C", count)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "signed"),
    [(0, False), (-1, False), (MAX_POINTS + 1, False), (0, True), (-MAX_POINTS - 1, True)],
)
def test_whole_points_are_bounded(value: int, signed: bool) -> None:
    with pytest.raises(InvalidAmount, match=f"1 to {MAX_POINTS} points"):
        whole_points(value, "a credit", signed=signed)


@pytest.mark.parametrize(
    ("value", "signed"), [(1, False), (MAX_POINTS, False), (-MAX_POINTS, True), (-1, True)]
)
def test_whole_points_within_bounds_pass_unchanged(value: int, signed: bool) -> None:
    assert whole_points(value, "an adjustment", signed=signed) == value


@pytest.fixture
async def sqlite_sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # SQLite only: PostgreSQL's INTEGER columns round a fraction on the way in.
    engine = create_engine(sqlite_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _account_with(ledger: LedgerService, sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO accounts (number, holder_name, pin_hash, web_code_hash, created_at)"
                " VALUES ('40000001', 'Durand', '-', '-', :at)"
            ),
            {"at": START},
        )
    await ledger.credit("40000001", 100, reason="order", idempotency_key="order")
    return "40000001"


async def test_check_reports_a_fraction_even_when_the_sums_agree(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    ledger = LedgerService(sqlite_sessions, FakeClock(START), LedgerConfig())
    account = await _account_with(ledger, sqlite_sessions)
    assert await ledger.check() == []

    # Half a point written around the ledger, on the movement and the cached balance alike.
    async with sqlite_sessions.begin() as session:
        await session.execute(text("UPDATE ledger_movements SET amount = amount + 0.5"))
        await session.execute(text("UPDATE accounts SET balance = balance + 0.5"))

    assert await ledger.check() == [
        BalanceMismatch(account, Decimal("100.5"), Decimal("100.5"), fractional_movements=1)
    ]


async def test_check_compares_the_stored_figures_not_their_integer_parts(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    ledger = LedgerService(sqlite_sessions, FakeClock(START), LedgerConfig())
    account = await _account_with(ledger, sqlite_sessions)

    async with sqlite_sessions.begin() as session:
        await session.execute(text("UPDATE accounts SET balance = 100.25"))

    assert await ledger.check() == [BalanceMismatch(account, Decimal("100.25"), Decimal(100))]
