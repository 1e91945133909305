"""`callrouter db ...`: database maintenance, and the helpers every database command shares."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.config import load_config
from callrouter.db.engine import create_engine, parse_database_url, session_factory
from callrouter.db.migrate import current_revision_async, upgrade_async
from callrouter.errors import CallrouterError

S = TypeVar("S")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade", help="create or upgrade the database schema to the newest revision"
    )
    upgrade.set_defaults(handler=upgrade_command)


def resolve_database_url(args: argparse.Namespace) -> str:
    """--database-url (or $CALLROUTER_DATABASE_URL), else the config file's [database] url
    (a local SQLite file by default): the same database `callrouter serve` uses."""
    url: str | None = getattr(args, "database_url", None)
    if url:
        return url
    return load_config(getattr(args, "config", None)).database.url


def run_database_command(args: argparse.Namespace, work: Callable[[str], Awaitable[int]]) -> int:
    """Migrate the database of `args`, then run `work(url)`; failures become one clear line.

    Returns work's exit code, or 1 after printing the error on stderr (never a traceback).
    """
    try:
        url = resolve_database_url(args)

        async def migrate_then_work() -> int:
            await upgrade_async(url)
            return await work(url)

        return asyncio.run(migrate_then_work())
    except CallrouterError as error:
        print(f"callrouter: {error}", file=sys.stderr)
    except (SQLAlchemyError, OSError) as error:
        print(f"callrouter: database error: {_first_line(error)}", file=sys.stderr)
    return 1


def service_command(
    build: Callable[[async_sessionmaker[AsyncSession], argparse.Namespace], S],
    action: Callable[[S, argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    """A handler that migrates the database, builds a feature's service on it, runs `action`
    with it and disposes of the engine, every failure becoming one clear line."""

    def handle(args: argparse.Namespace) -> int:
        async def work(url: str) -> int:
            engine = create_engine(url)
            try:
                return await action(build(session_factory(engine), args), args)
            finally:
                await engine.dispose()

        return run_database_command(args, work)

    return handle


def upgrade_command(args: argparse.Namespace) -> int:
    async def report(url: str) -> int:
        shown = parse_database_url(url).render_as_string(hide_password=True)
        print(f"database {shown} is at revision {await current_revision_async(url)}")
        return 0

    return run_database_command(args, report)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
