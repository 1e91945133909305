"""One idempotency key, one request: the same key with a different request is refused.

A replay (the same request again, e.g. after a timeout) gets the first incident back; the
same key with another level, pass, third party, emergency or classification would bill a
service nobody asked for, so it is refused (409 in the API) and nothing moves. Both
databases, and the race between two different requests sent with one key.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.ledger.errors import IdempotencyKeyReused
from callrouter.ledger.models import Incident, Movement
from callrouter.ledger.prices import AssistanceLevel, Classification
from callrouter.ledger.service import LedgerService, OpenedIncident
from callrouter.passes import Pass

from .conftest import MakeAccount

FIRST: dict[str, Any] = {"level": AssistanceLevel.STANDARD, "pass_": Pass.PRIORITY}


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        incidents = await session.scalar(select(func.count()).select_from(Incident))
        movements = await session.scalar(select(func.count()).select_from(Movement))
    return int(incidents or 0), int(movements or 0)


@pytest.mark.parametrize(
    "change",
    [
        {"level": AssistanceLevel.ADVANCED},
        {"pass_": Pass.FOUR_HOURS},
        {"third_party": True},
        {"emergency": True},
        {"classification": Classification.NON_ATTRIBUTABLE},
    ],
    ids=["level", "pass", "third-party", "emergency", "classification"],
)
async def test_the_same_key_with_a_different_request_is_refused(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
    change: dict[str, Any],
) -> None:
    account = await make_account(500)
    first = await ledger.open_incident(account, idempotency_key="ticket-1", **FIRST)

    with pytest.raises(IdempotencyKeyReused, match="different request"):
        await ledger.open_incident(account, idempotency_key="ticket-1", **(FIRST | change))

    assert await ledger.balance(account) == 500 - 75
    assert await _counts(database_sessions) == (1, 2)
    again = await ledger.open_incident(account, idempotency_key="ticket-1", **FIRST)
    assert (again.incident_id, again.replayed) == (first.incident_id, True)


async def test_a_replay_worded_differently_gets_the_first_incident(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(500)
    first = await ledger.open_incident(
        account, idempotency_key="k", summary="printer down", call="1795433938.1", **FIRST
    )

    again = await ledger.open_incident(account, idempotency_key="k", summary="", **FIRST)

    assert (again.incident_id, again.replayed, again.balance) == (first.incident_id, True, 425)


async def test_two_different_requests_racing_with_one_key_open_one_incident(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(1000)
    standard = {"level": AssistanceLevel.STANDARD, "pass_": Pass.FOUR_HOURS}
    advanced = {"level": AssistanceLevel.ADVANCED, "pass_": Pass.FOUR_HOURS}

    # Each request ten times, interleaved, as two clients retrying after a timeout.
    requests = [standard, advanced] * 10
    results = await asyncio.gather(
        *[ledger.open_incident(account, idempotency_key="race", **r) for r in requests],
        return_exceptions=True,
    )

    opened = [(r, result) for r, result in zip(requests, results, strict=True)]
    winners = {id(r) for r, result in opened if isinstance(result, OpenedIncident)}
    assert len(winners) == 1, results
    for request, result in opened:
        if id(request) in winners:
            assert isinstance(result, OpenedIncident), result
        else:
            assert isinstance(result, IdempotencyKeyReused), result
    assert len({r.incident_id for _, r in opened if isinstance(r, OpenedIncident)}) == 1
    assert sum(not r.replayed for _, r in opened if isinstance(r, OpenedIncident)) == 1
    debited = 35 if id(standard) in winners else 75
    assert await ledger.balance(account) == 1000 - debited
    assert await _counts(database_sessions) == (1, 2)
    assert await ledger.check() == []


async def test_incidents_opened_before_fingerprints_replay_by_account_as_before(
    ledger: LedgerService,
    make_account: MakeAccount,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    account = await make_account(500)
    first = await ledger.open_incident(account, idempotency_key="old", **FIRST)
    async with database_sessions.begin() as session:
        # What revision 0006 leaves on the incidents that were already there.
        await session.execute(update(Incident).values(open_fingerprint=None))

    again = await ledger.open_incident(
        account, idempotency_key="old", level=AssistanceLevel.ADVANCED, pass_=Pass.PRIORITY
    )

    assert (again.incident_id, again.replayed) == (first.incident_id, True)
    other = await make_account(500)
    with pytest.raises(IdempotencyKeyReused, match="another account"):
        await ledger.open_incident(other, idempotency_key="old", **FIRST)
