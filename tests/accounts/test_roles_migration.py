"""Migration 0004: operators issued before roles existed stay coordinators."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from callrouter.db.migrate import alembic_config, upgrade


def test_operators_from_before_roles_become_coordinators(tmp_path: Path) -> None:
    path = tmp_path / "before-roles.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0003_operators")
            connection.execute(
                text(
                    "INSERT INTO operators (name, key_id, key_hash, created_at)"
                    " VALUES ('Claire', 'abcdef012345', 'h', CURRENT_TIMESTAMP)"
                )
            )
        upgrade(f"sqlite+aiosqlite:///{path}")
        with engine.connect() as connection:
            roles = connection.execute(text("SELECT name, role FROM operators")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in roles] == [("Claire", "coordinator")]
