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
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

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
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
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
