"""Racing requests on one account: the lock and the idempotency keys keep every point.

These run on both databases; PostgreSQL is where the race is real (20 pooled connections in
parallel), SQLite shows that BEGIN IMMEDIATE serialises writers the same way. Without the
account row lock, debits read the same balance and overwrite each other's result: more than
three would succeed and the balance would no longer be the sum of the movements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.ledger.errors import InsufficientBalance, RechargeCodeAlreadyRedeemed
from callrouter.ledger.models import Incident, Movement
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService, OpenedIncident, Redemption
from callrouter.passes import Pass

from .conftest import MakeAccount

RACERS = 50
T = TypeVar("T")


async def _gather(tasks: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    return await asyncio.gather(*tasks, return_exceptions=True)


async def _sum_and_count(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        total, count = (
            await session.execute(select(func.coalesce(func.sum(Movement.amount), 0), func.count()))
        ).one()
    return int(total), int(count)


def _open(ledger: LedgerService, account: str, key: str) -> Awaitable[OpenedIncident]:
    return ledger.open_incident(
        account, level=AssistanceLevel.ADVANCED, pass_=Pass.FOUR_HOURS, idempotency_key=key
    )


async def test_racing_debits_succeed_exactly_as_far_as_the_balance_goes(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(3 * 75)

    results = await _gather([_open(ledger, account, f"call-{n}") for n in range(RACERS)])

    opened = [r for r in results if isinstance(r, OpenedIncident)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(opened), len(refused)) == (3, RACERS - 3), [
        r
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, InsufficientBalance)
    ]
    assert sorted(r.balance for r in opened) == [0, 75, 150]
    assert await ledger.balance(account) == 0
    assert await _sum_and_count(database_sessions) == (0, 4)
    assert await ledger.check() == []


async def test_racing_replays_debit_each_incident_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(1000)
    keys = [f"uid-{n}" for n in range(5)]

    # Each of the five requests arrives ten times at once, as after an AMI reconnect.
    results = await _gather([_open(ledger, account, keys[n % 5]) for n in range(RACERS)])

    assert all(isinstance(r, OpenedIncident) for r in results), results
    opened = [r for r in results if isinstance(r, OpenedIncident)]
    assert sum(not r.replayed for r in opened) == 5
    assert len({r.incident_id for r in opened}) == 5
    for key_index in range(5):
        same_key = {(r.incident_id, r.balance) for r in opened[key_index::5]}
        assert len(same_key) == 1
    assert await ledger.balance(account) == 1000 - 5 * 75
    async with database_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 5
    assert await _sum_and_count(database_sessions) == (1000 - 5 * 75, 6)


async def test_a_code_redeemed_ten_times_at_once_credits_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    same_account, others = await make_account(), [await make_account() for _ in range(5)]
    (issued,) = await ledger.issue_codes("FSACSP500C", 1)

    results = await _gather(
        [ledger.redeem_code(same_account, issued.code) for _ in range(5)]
        + [ledger.redeem_code(other, issued.code) for other in others]
    )

    redemptions = [r for r in results if isinstance(r, Redemption)]
    winners = [r for r in redemptions if not r.replayed]
    assert len(winners) == 1, results
    assert all(isinstance(r, Redemption | RechargeCodeAlreadyRedeemed) for r in results), results
    balances = [await ledger.balance(n) for n in [same_account, *others]]
    assert sorted(balances) == [0, 0, 0, 0, 0, 500]
    assert all(r.account_number == winners[0].account_number for r in redemptions)
    assert await _sum_and_count(database_sessions) == (500, 1)


async def test_racing_refunds_refund_once(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(75)
    opened = await _open(ledger, account, "o")

    results = await _gather(
        [ledger.refund_incident(opened.incident_id, "late", f"refund-{n % 4}") for n in range(20)]
        + [ledger.reclassify_non_attributable(opened.incident_id, "quality", "r")]
    )

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert await ledger.balance(account) == 75
    assert await _sum_and_count(database_sessions) == (75, 3)


async def test_debits_racing_on_several_accounts_keep_every_balance(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    accounts = [await make_account(10 * 75) for _ in range(4)]

    results = await _gather([_open(ledger, accounts[n % 4], f"call-{n}") for n in range(40)])

    assert all(isinstance(r, OpenedIncident) for r in results), results
    assert [await ledger.balance(account) for account in accounts] == [0, 0, 0, 0]
    assert await ledger.check() == []
