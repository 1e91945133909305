"""The asyncpg connection under a pooled SQLAlchemy one, for the few hot statements.

Through SQLAlchemy each statement costs more client CPU than PostgreSQL spends on it; the
routing path (caller identification) and the ledger's debit send theirs straight to the
driver as prepared statements (asyncpg caches them per connection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's asyncpg connection (untyped: asyncpg has no type hints).

    An error that may leave the connection lost or mid-query invalidates it, so that the
    pool never hands it out again; a plain PostgreSQL error leaves it usable.
    """
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        try:
            yield driver
        except asyncpg.PostgresError:
            raise
        except BaseException:
            await connection.invalidate()
            raise
