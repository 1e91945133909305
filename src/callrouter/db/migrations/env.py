"""Alembic environment: runs migrations over callrouter's async engine.

Two ways in: callrouter.db.migrate hands over an open connection in
`config.attributes["connection"]`; the alembic command line (for authoring revisions, with
`-c src/callrouter/db/alembic.ini`) gives a URL via `-x url=...` or $CALLROUTER_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from callrouter.db.engine import create_engine
from callrouter.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "CALLROUTER_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or $CALLROUTER_DATABASE_URL")
    return url


if context.is_offline_mode():
    raise SystemExit("callrouter migrations run online only")

shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    _configure(shared_connection)
else:
    asyncio.run(_run_from_url(_url()))
