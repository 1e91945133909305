"""Revision 0005 on a database that already has beneficiaries: they stay recognised, in the
canonical caller-ID form, and two spellings of one number keep only the first holder."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, text

from callrouter.db.engine import create_engine
from callrouter.db.migrate import alembic_config, upgrade_async

BEFORE = "0003_operators"


def _to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_existing_beneficiaries_are_kept_confirmed_in_canonical_form(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_to, BEFORE)
            await connection.execute(
                text(
                    "INSERT INTO accounts (id, number, holder_name, pin_hash, web_code_hash,"
                    " created_at, pin_failed_attempts) VALUES"
                    " (1, '12345678', 'First', 'x', 'y', '2025-01-01 10:00:00', 3),"
                    " (2, '23456789', 'Second', 'x', 'y', '2025-01-01 10:00:00', 0)"
                )
            )
            # The old normaliser kept '33612345678' as typed: it never matched 0612345678.
            await connection.execute(
                text(
                    "INSERT INTO beneficiaries (id, account_id, name, caller_id, created_at)"
                    " VALUES (1, 1, 'Marie', '33612345678', '2025-01-02 10:00:00'),"
                    " (2, 2, 'Paul', '0612345678', '2025-01-03 10:00:00'),"
                    " (3, 2, 'Zoé', '0711223344', '2025-01-04 10:00:00')"
                )
            )
        await upgrade_async(url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT id, caller_id, confirmed_at IS NOT NULL, removed_at IS NOT NULL"
                        " FROM beneficiaries ORDER BY id"
                    )
                )
            ).all()
            columns = (
                await connection.exec_driver_sql("SELECT name FROM pragma_table_info('accounts')")
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "0612345678", 1, 0),
        (2, "0612345678", 1, 1),
        (3, "0711223344", 1, 0),
    ]
    assert not {"pin_failed_attempts", "pin_locked_until"} & {column[0] for column in columns}
