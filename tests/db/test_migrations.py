"""Migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from callrouter.db.engine import create_engine
from callrouter.db.migrate import current_revision_async, head_revision, upgrade_async
from callrouter.db.models import Base


async def test_upgrade_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"accounts", "beneficiaries", "call_records", "alembic_version"} <= tables
    assert await current_revision_async(database_url) == head_revision()


async def test_first_revision_is_named_for_the_ledger_to_build_on() -> None:
    from alembic.script import ScriptDirectory

    from callrouter.db.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_revision("0001_identity").down_revision is None


async def test_upgrading_again_changes_nothing(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO accounts (number, holder_name, pin_hash, web_code_hash,"
                    " created_at) VALUES ('12345678', 'Durand', 'x', 'y', CURRENT_TIMESTAMP)"
                )
            )
        await upgrade_async(database_url)
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM accounts"))).scalar()
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
    finally:
        await engine.dispose()
    assert count == 1
    assert [row[0] for row in versions] == [head_revision()]


async def test_migrations_match_the_models(database_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == []


async def test_balance_cannot_go_below_zero(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO accounts (number, holder_name, pin_hash, web_code_hash,"
                        " created_at, balance)"
                        " VALUES ('12345678', 'Durand', 'x', 'y', CURRENT_TIMESTAMP, -1)"
                    )
                )
    finally:
        await engine.dispose()


async def test_foreign_keys_are_enforced(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO beneficiaries (account_id, name, caller_id, created_at)"
                        " VALUES (999, 'Nobody', '0612345678', CURRENT_TIMESTAMP)"
                    )
                )
    finally:
        await engine.dispose()
