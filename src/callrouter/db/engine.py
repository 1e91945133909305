"""Async engines and session factories for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from callrouter.db.writer import WritingSessions, begins_immediate, is_sqlite
from callrouter.errors import CallrouterError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Sized for the concurrency we serve (20 clients in bench/ledger_debits.py, bursts of calls):
# overflow connections are closed when returned, and each new one is a new PostgreSQL
# backend and new prepared statements, which halved the debit rate at 10 + 10.
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 10


class DatabaseURLError(CallrouterError):
    """The database URL is malformed or names a database callrouter does not support."""


def parse_database_url(url: str) -> URL:
    """Parse and check a SQLAlchemy URL; only sqlite+aiosqlite and postgresql+asyncpg pass."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseURLError(f"malformed database URL {url!r}: {error}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite" and driver != "aiosqlite":
        raise DatabaseURLError(
            f"SQLite needs the async driver: write 'sqlite+aiosqlite://...' (got {_shown(parsed)})"
        )
    if backend == "postgresql" and driver != "asyncpg":
        raise DatabaseURLError(
            "PostgreSQL needs the async driver: write 'postgresql+asyncpg://...' "
            f"(got {_shown(parsed)})"
        )
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {backend!r} in {_shown(parsed)}: "
            "use sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return parsed


def create_engine(url: str, *, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for `url`.

    SQLite: foreign keys enforced, WAL journal (readers never block the writer), a busy
    timeout for other processes, and one writer at a time in this one (callrouter.db.writer):
    a transaction begins DEFERRED unless it writes, then IMMEDIATE, which takes the write
    lock up front like the SELECT ... FOR UPDATE the ledger takes on PostgreSQL (a deferred
    transaction would instead fail with "database is locked" when it tries to upgrade its
    read lock). `sqlite_foreign_keys=False` is for migrations only: batch table rebuilds
    must not trigger foreign-key actions.
    """
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_async_engine(
            parsed,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_MAX_OVERFLOW,
            # No ping before each checkout: it costs the routing path a round trip per
            # query. A connection dropped by a server restart fails once, the pool is
            # invalidated, and the dialplan's fail-safe queues that one caller.
            pool_pre_ping=False,
        )
    engine = create_async_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload on attribute access).

    Write in a `begin()` block: on SQLite that block waits for the writer's turn.
    """
    if is_sqlite(engine):
        return WritingSessions(engine, expire_on_commit=False)
    return async_sessionmaker(engine, expire_on_commit=False)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is turned off: _on_begin below emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if begins_immediate(connection) else "BEGIN")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # A task cancelled while aiosqlite runs its statement (shutdown cancels them all)
        # has lost nothing: the statement ends in aiosqlite's thread and the connection is
        # still good. SQLAlchemy would take the cancellation for a lost connection and
        # throw it away without rolling its transaction back; the thrown-away connection
        # kept SQLite's write lock, and the next writer waited its whole busy timeout for
        # "database is locked". Not a disconnect, then: the transaction is rolled back,
        # after the statement, like any failed one.
        if isinstance(context.original_exception, asyncio.CancelledError):
            context.is_disconnect = False


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)
