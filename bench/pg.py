"""Databases for a benchmark run: a SQLite file, a given URL, or a throw-away PostgreSQL one."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


async def _admin(server_url: str, statement: str) -> None:
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def temporary_postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`; its SQLAlchemy asyncpg URL."""
    name = f"callrouter_bench_{secrets.token_hex(6)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def bench_database(url: str | None) -> Iterator[str]:
    """`sqlite`: a file in a temporary folder; a URL: that database as it is; nothing: a
    throw-away database on the server of CALLROUTER_TEST_POSTGRES_URL."""
    if url == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        return
    server = url or os.environ.get("CALLROUTER_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("give --url, or set CALLROUTER_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with temporary_postgres_database(server) as temporary:
        yield temporary
