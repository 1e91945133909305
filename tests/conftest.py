"""Fixtures shared by every test folder.

PostgreSQL: tests that need it take `postgres_url`. It reads the server's URL from
CALLROUTER_TEST_POSTGRES_URL (set by .ci/run) and skips with a clear reason when unset.
Each test session creates its own database with a random name and drops it at the end,
because the server outlives sessions and CI runs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.logging import configure_logging

# structlog's default output, but plain tracebacks: rich ones (rich comes with the dev tools)
# cost milliseconds each and starved the event loop of tests where many calls fail at once.
structlog.configure(
    processors=[
        *structlog.get_config()["processors"][:-1],
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
    ]
)

POSTGRES_ENV = "CALLROUTER_TEST_POSTGRES_URL"
TRACES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "ami-traces"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session (SQLAlchemy asyncpg URL)."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    name = f"callrouter_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    """../shared/ami-traces, the transcripts captured from a real Asterisk."""
    if not TRACES_DIR.is_dir():
        pytest.skip(f"the AMI traces are not at {TRACES_DIR}")
    return TRACES_DIR


# Database fixtures. Every database test takes `database_url` and so runs twice: on SQLite
# and on PostgreSQL (skipped cleanly without CALLROUTER_TEST_POSTGRES_URL).


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from callrouter.db.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "callrouter.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite_template: Path) -> str:
    """A migrated SQLite database of this test's own (aiosqlite URL)."""
    path = tmp_path / "callrouter.db"
    # Copying a database migrated once per session is much faster than migrating per test;
    # the engine was disposed, so the WAL is checkpointed into the main file.
    shutil.copyfile(_migrated_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    """`postgres_url`, migrated to the newest revision once per session."""
    from callrouter.db.migrate import upgrade

    upgrade(postgres_url)
    return postgres_url


async def _empty_every_table(url: str) -> None:
    from callrouter.db.engine import create_engine
    from callrouter.db.models import Base

    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL (shared by the session, emptied
    before each test)."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    url = request.getfixturevalue("migrated_postgres_url")
    asyncio.run(_empty_every_table(url))
    return url


@pytest.fixture
async def database_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on `database_url` (so on both databases); the engine is disposed after."""
    from callrouter.db.engine import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def logs_on_stderr() -> Iterator[None]:
    """Logging as `callrouter` main sets it up, so stdout holds only what a command prints."""
    before = structlog.get_config()
    configure_logging(level="info")
    yield
    structlog.configure(**before)
