"""A small asyncpg pool of its own for the statements every call runs (PostgreSQL only).

Checking a connection out of SQLAlchemy's pool around one asyncpg statement cost the
routing path about 0.75 ms of CPU per call (bench/routing_latency.py --profile-router),
several times what the statement itself costs. The hot statements (caller identification,
the call records' INSERT) go through this pool instead: asyncpg's own checkout is a queue
get, and each connection keeps its statements prepared. Everything else keeps the
engine's pool. Created with the database context and closed with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.errors import CallrouterError

_ADAPTER_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")


class HotPoolClosed(CallrouterError):
    """A hot statement was sent while the pool is not open (before start, after stop)."""


class HotPool:
    def __init__(self, engine: AsyncEngine, size: int) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the hot pool is for PostgreSQL engines only")
        if size < 1:
            raise ValueError(f"the hot pool needs at least 1 connection, got {size}")
        # The engine's own translation of its URL (host, port, user, password, database,
        # ssl...), so that both pools reach the same server the same way.
        _args, connect_kwargs = engine.dialect.create_connect_args(engine.url)
        # Options of SQLAlchemy's adapter, not of asyncpg.connect.
        for adapter_option in _ADAPTER_OPTIONS:
            connect_kwargs.pop(adapter_option, None)
        self._connect_kwargs = connect_kwargs
        self._size = size
        self._pool: Any = None

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            **self._connect_kwargs,
            min_size=self._size,
            max_size=self._size,
            # The hot statements leave no session state behind: asyncpg's default reset
            # would cost a round trip to the server at every release.
            reset=_keep_as_is,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def fetchrow(self, query: str, *args: object) -> Any:
        """One row or None (an asyncpg Record: untyped, asyncpg has no type hints)."""
        async with self.connection() as connection:
            return await connection.fetchrow(query, *args)

    async def connect_alone(self) -> Any:
        """A connection of its own, outside the pool, to the same server (a LISTEN that
        lasts as long as the process); the caller closes it."""
        return await asyncpg.connect(**self._connect_kwargs)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection of the pool, given back when the block ends. A connection lost
        meanwhile is replaced by asyncpg at the next checkout."""
        if self._pool is None:
            raise HotPoolClosed("the database's hot pool is not open")
        async with self._pool.acquire() as connection:
            yield connection


async def _keep_as_is(_connection: object) -> None:
    return None
