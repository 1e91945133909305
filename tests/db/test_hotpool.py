"""The hot pool: asyncpg connections of its own, to the engine's server, open only between
open() and close()."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from callrouter.db.engine import create_engine
from callrouter.db.hotpool import HotPool, HotPoolClosed


async def test_statements_run_only_while_open(migrated_postgres_url: str) -> None:
    # An option of SQLAlchemy's adapter in the URL is not passed on to asyncpg.
    url = make_url(migrated_postgres_url).update_query_dict(
        {"prepared_statement_cache_size": "100"}
    )
    engine = create_engine(url.render_as_string(hide_password=False))
    pool = HotPool(engine, 2)
    try:
        with pytest.raises(HotPoolClosed):
            await pool.fetchrow("SELECT 1")
        await pool.open()
        assert pool.is_open
        row = await pool.fetchrow("SELECT current_database(), $1::int + 1", 41)
        assert (row[0], row[1]) == (make_url(migrated_postgres_url).database, 42)
        async with pool.connection() as first, pool.connection() as second:
            assert first is not second
    finally:
        await pool.close()
        await engine.dispose()
    assert not pool.is_open
    with pytest.raises(HotPoolClosed):
        await pool.fetchrow("SELECT 1")


async def test_a_session_setting_does_not_leak_into_the_next_checkout(
    migrated_postgres_url: str,
) -> None:
    # No reset round trip at release: only transaction-local settings are used.
    engine = create_engine(migrated_postgres_url)
    pool = HotPool(engine, 1)
    await pool.open()
    try:
        async with pool.connection() as connection, connection.transaction():
            await connection.execute("SET LOCAL synchronous_commit TO OFF")
        assert (await pool.fetchrow("SHOW synchronous_commit"))[0] == "on"
    finally:
        await pool.close()
        await engine.dispose()


def test_only_for_postgres_and_at_least_one_connection() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        HotPool(create_engine("sqlite+aiosqlite:///:memory:"), 2)
    with pytest.raises(ValueError, match="at least 1"):
        HotPool(create_engine("postgresql+asyncpg://u@127.0.0.1/db"), 0)
