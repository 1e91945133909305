"""The engine of `database_url`, for the call-record writer (it writes on plain connections)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls import writer as writer_module
from callrouter.db.engine import create_engine, session_factory


@pytest.fixture
async def database_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def engine_sessions(database_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the writer's engine, to read back what it wrote."""
    return session_factory(database_engine)


def database_away(monkeypatch: pytest.MonkeyPatch, step: str = "add_call_records") -> None:
    """The writer's `step` fails as if the database refused the connection, until
    `monkeypatch.undo()`."""

    async def refused(*_args: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(writer_module, step, refused)
