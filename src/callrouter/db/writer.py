"""One writer at a time on a SQLite database, queued in-process.

SQLite lets one transaction write at a time. When several connections of one process
compete for that lock, each waits in SQLite's busy handler, which polls with sleeps of up
to 100 ms: under load a writer can lose every poll until its busy timeout ends in "database
is locked", although the lock was free half of the time (the demo test failed that way,
out of BEGIN IMMEDIATE after 10 s). Every transaction, reads included, used to begin
IMMEDIATE and so queued there too.

So, on SQLite:
- a transaction that only reads begins DEFERRED: it never takes the write lock, and under
  WAL it reads while the writer writes;
- a write transaction (a session's `begin()` block, or `write_transaction`) first waits for
  its turn in the process, an asyncio lock that serves writers in the order they asked, and
  then begins IMMEDIATE: only another process (a `callrouter` command run meanwhile) can
  make it wait on SQLite's lock, within the busy timeout.

A write transaction opened inside another one by the same task would wait for itself
forever: it is refused at once instead (NestedWriteError).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

# The context manager async_sessionmaker.begin() returns; subclassed to take the writer's
# turn before the session's transaction begins.
from sqlalchemy.ext.asyncio.session import _AsyncSessionContextManager

#: The execution option that makes a SQLite transaction begin IMMEDIATE.
WRITER_OPTION = "callrouter_sqlite_writer"
#: How long a write may wait for its turn before it fails (far beyond any sane queue).
SQLITE_WRITER_WAIT_S = 30.0


class NestedWriteError(RuntimeError):
    """A write transaction opened while the same task holds one: it would wait for itself."""


class _Writer:
    """The writer's turn on one SQLite engine."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        self._holder: asyncio.Task[Any] | None = None

    def usable(self) -> bool:
        # An asyncio lock belongs to one event loop; an engine may outlive it (tests).
        return self._loop is asyncio.get_running_loop()

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise NestedWriteError(
                "a write transaction was opened inside another one of the same task: "
                "it would wait for itself (finish the first one, or do both in it)"
            )
        try:
            async with asyncio.timeout(SQLITE_WRITER_WAIT_S):
                await self._lock.acquire()
        except TimeoutError:
            raise SQLAlchemyTimeoutError(
                f"no turn to write to the database after {SQLITE_WRITER_WAIT_S:.0f} s"
            ) from None
        self._holder = task

    def release(self) -> None:
        self._holder = None
        self._lock.release()


_WRITERS: WeakKeyDictionary[Engine, _Writer] = WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> _Writer:
    writer = _WRITERS.get(engine.sync_engine)
    if writer is None or not writer.usable():
        writer = _WRITERS[engine.sync_engine] = _Writer()
    return writer


def _for_writing(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose transactions begin IMMEDIATE (same pool, same event listeners).
    Made per write: kept in `_WRITERS`, it would keep its engine alive for ever."""
    return engine.execution_options(**{WRITER_OPTION: True})


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def begins_immediate(connection: Connection) -> bool:
    """Whether this SQLite connection's transaction writes (see `WRITER_OPTION`)."""
    return bool(connection.get_execution_options().get(WRITER_OPTION))


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`engine.begin()` for a transaction that writes: on SQLite, in its turn."""
    if not is_sqlite(engine):
        async with engine.begin() as connection:
            yield connection
        return
    writer = _writer(engine)
    await writer.acquire()
    try:
        async with _for_writing(engine).begin() as connection:
            yield connection
    finally:
        writer.release()


class WritingSessions(async_sessionmaker[AsyncSession]):
    """Sessions on a SQLite engine: those opened with `begin()` write, in their turn."""

    def begin(self) -> _AsyncSessionContextManager[AsyncSession]:
        engine = self.kw["bind"]
        return _WriteSession(self(bind=_for_writing(engine)), _writer(engine))


class _WriteSession(_AsyncSessionContextManager[AsyncSession]):
    __slots__ = ("writer",)

    def __init__(self, session: AsyncSession, writer: _Writer) -> None:
        super().__init__(session)
        self.writer = writer

    async def __aenter__(self) -> AsyncSession:
        await self.writer.acquire()
        try:
            return await super().__aenter__()
        except BaseException:
            self.writer.release()
            raise

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            await super().__aexit__(type_, value, traceback)
        finally:
            self.writer.release()
