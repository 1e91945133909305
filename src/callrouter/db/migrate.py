"""Brings a database to the newest schema with Alembic, from code (no alembic.ini needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from callrouter.db.engine import create_engine, parse_database_url
from callrouter.errors import CallrouterError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant will do: it only keeps two processes from migrating one PostgreSQL at once.
_POSTGRES_MIGRATION_LOCK = 0x63616C6C

log = structlog.get_logger(__name__)


class MigrationError(CallrouterError):
    """The schema upgrade failed or left the database inconsistent."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migration scripts found in {MIGRATIONS_DIR}")
    return head


def upgrade(url: str) -> None:
    """Upgrade the database at `url` to the newest revision (for synchronous callers)."""
    asyncio.run(upgrade_async(url))


async def upgrade_async(url: str) -> None:
    """Upgrade the database at `url` to the newest revision; a no-op when already there."""
    parse_database_url(url)
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade_to_head)
            if connection.dialect.name == "sqlite":
                violations = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if violations:
                    raise MigrationError(
                        f"the upgrade left {len(violations)} rows breaking a foreign key, "
                        f"first: {tuple(violations[0])}"
                    )
            await connection.commit()
    finally:
        await engine.dispose()
    log.info("db.upgraded", revision=head_revision())


async def current_revision_async(url: str) -> str | None:
    """The revision the database at `url` is at, None when it was never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
