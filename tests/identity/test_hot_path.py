"""What the routing hot path relies on: one query by caller id, failures counted under load."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.db.driver import driver_connection
from callrouter.identity import service as identity_service
from callrouter.identity.service import IdentityService

PIN = "482913"


class _RecordingDriver:
    """An asyncpg connection that notes the statements sent straight to it."""

    def __init__(self, driver: Any, sent: list[str]) -> None:
        self._driver = driver
        self._sent = sent

    async def fetchrow(self, statement: str, *args: Any) -> Any:
        self._sent.append(statement)
        return await self._driver.fetchrow(statement, *args)


@pytest.fixture
def statements(
    database_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Every SQL statement sent from now on, through SQLAlchemy or straight to asyncpg,
    transaction control left out."""
    engine = database_sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    sent: list[str] = []

    @asynccontextmanager
    async def recording(engine: AsyncEngine) -> AsyncIterator[Any]:
        async with driver_connection(engine) as driver:
            yield _RecordingDriver(driver, sent)

    monkeypatch.setattr(identity_service, "driver_connection", recording)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_known_caller_id_costs_one_query(
    service: IdentityService, statements: list[str]
) -> None:
    account = await service.create_account("Durand", pin=PIN)
    await service.add_beneficiary(account.number, "Marie", "0612345678")
    statements.clear()

    assert (await service.identify_caller("+33 6 12 34 56 78", "", "")).status == "caller-id"
    assert len(statements) == 1


async def test_a_right_pin_from_a_proven_line_writes_nothing(
    service: IdentityService, statements: list[str]
) -> None:
    account = await service.create_account("Durand", pin=PIN)
    # The first success from a line makes it known to the account: one write, once.
    assert (await service.identify_caller("0499999999", account.number, PIN)).status == "pin"
    statements.clear()

    assert (await service.identify_caller("0499999999", account.number, PIN)).status == "pin"
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT"]


async def test_concurrent_wrong_pins_all_count(service: IdentityService) -> None:
    account = await service.create_account("Durand", pin=PIN)

    results = await asyncio.gather(
        *(service.identify_caller(None, account.number, "000000") for _ in range(5))
    )

    assert [r.status for r in results] == ["wrong-pin"] * 5
    # All five counted: that line is now blocked on that account, right PIN or not.
    assert (await service.identify_caller(None, account.number, PIN)).status == "wrong-pin"
    assert (await service.identify_caller("0700000001", account.number, PIN)).status == "pin"
