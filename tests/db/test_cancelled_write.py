"""A write cancelled halfway (shutdown cancels every task) must not keep SQLite's lock.

The demo test failed now and then with "database is locked" out of the call record
writer's last flush at shutdown: the writer's task had been cancelled in the middle of
its INSERT, SQLAlchemy took the cancellation for a lost connection and threw the
connection away without rolling its transaction back, and the write lock stayed with that
connection (busy timeout cut to 100 ms here, as in test_writer.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.calls.models import CallRecord
from callrouter.calls.records import _row
from callrouter.db import engine as engine_module
from callrouter.db.engine import create_engine
from callrouter.db.writer import write_transaction

from .test_writer import _record

SHORT_BUSY_TIMEOUT_MS = 100


@pytest.fixture
async def engine(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncEngine]:
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", SHORT_BUSY_TIMEOUT_MS)
    engine = create_engine(sqlite_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.mark.parametrize("statement", ["BEGIN", "SELECT", "INSERT"])
async def test_a_write_cancelled_mid_statement_leaves_the_lock_free(
    engine: AsyncEngine, statement: str
) -> None:
    inserting = asyncio.Event()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(_c: Any, _cu: Any, sql: str, *_: Any) -> None:
        if sql.startswith(statement):
            inserting.set()

    async def write() -> None:
        async with write_transaction(engine) as connection:
            await connection.execute(select(1))
            await connection.execute(
                insert(CallRecord.__table__), [_row(_record(1)), _row(_record(2))]
            )

    task = asyncio.create_task(write())
    await inserting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with write_transaction(engine) as connection:
        written = await connection.scalar(select(func.count()).select_from(CallRecord))
    # Rolled back whole: a cancelled write leaves nothing half done.
    assert written == 0


async def test_on_postgresql_a_cancelled_write_leaves_no_transaction_open(
    migrated_postgres_url: str,
) -> None:
    engine = create_engine(migrated_postgres_url)
    try:
        sleeping = asyncio.Event()

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _seen(_c: Any, _cu: Any, sql: str, *_: Any) -> None:
            if "pg_sleep" in sql:
                sleeping.set()

        async def write() -> None:
            async with write_transaction(engine) as connection:
                await connection.execute(insert(CallRecord.__table__), [_row(_record(1))])
                await connection.execute(select(func.pg_sleep(5)))

        # The session's database is shared: other tests' records may be there already.
        async with engine.connect() as connection:
            before = await connection.scalar(select(func.count()).select_from(CallRecord))
        task = asyncio.create_task(write())
        await sleeping.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with engine.connect() as connection:
            # The server ends the thrown-away connection's backend, and its transaction.
            async with asyncio.timeout(5):
                while await connection.scalar(_IDLE_IN_TRANSACTION):
                    await asyncio.sleep(0.05)
            written = await connection.scalar(select(func.count()).select_from(CallRecord))
        assert written == before
    finally:
        await engine.dispose()


_IDLE_IN_TRANSACTION = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
)
