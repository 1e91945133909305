"""One active dispatcher among the processes sharing a PostgreSQL database.

PostgreSQL: a session advisory lock, held on a connection kept open for as long as this
process dispatches. When the process dies its connection closes, the lock is released, and
a standby process takes it at its next try. SQLite is one machine's file: the process that
runs the server dispatches.
"""

from __future__ import annotations

import contextlib

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger(__name__)

#: The advisory lock's key: "callback" spelled in ASCII digits, any fixed 64-bit number.
LOCK_KEY = 0x63616C6C6261636B


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lead if nobody holds it; True if this process now holds it."""
        if not self.shared:
            return True
        if self._connection is not None:
            return await self.still_held()
        connection = await self._engine.connect()
        try:
            taken = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
            ).scalar_one()
            # Autobegun by the SELECT: end it, the session lock outlives transactions.
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        """False when the lock's connection was lost (the lock with it)."""
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except (DBAPIError, SQLAlchemyError, OSError):
            log.warning("callbacks.lead_lost")
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(DBAPIError, SQLAlchemyError, OSError):
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
            )
            await self._connection.commit()
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError, SQLAlchemyError, OSError):
                await connection.close()
