"""Engines refuse URLs callrouter cannot use, and give SQLite the settings it relies on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from callrouter.calls.models import CallRecord
from callrouter.db.engine import DatabaseURLError, create_engine, session_factory
from callrouter.errors import CallrouterError


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("not a url", "malformed"),
        ("sqlite:///callrouter.db", "sqlite+aiosqlite"),
        ("postgresql://user:secret@localhost/db", "postgresql+asyncpg"),
        ("mysql+aiomysql://localhost/db", "unsupported database 'mysql'"),
    ],
)
def test_unusable_urls_are_refused_with_a_hint(url: str, hint: str) -> None:
    with pytest.raises(DatabaseURLError, match=re.escape(hint)) as caught:
        create_engine(url)
    assert isinstance(caught.value, CallrouterError)
    assert "secret" not in str(caught.value)


async def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as connection:
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
    finally:
        await engine.dispose()
    assert foreign_keys == 1
    assert journal == "wal"


async def test_instants_come_back_aware_in_utc(database_url: str) -> None:
    paris_summer = timezone(timedelta(hours=2))
    decided = datetime(2025, 7, 1, 10, 30, tzinfo=paris_summer)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            session.add(_record(decided_at=decided))
            await session.commit()
        async with session_factory(engine)() as session:
            stored = (await session.execute(text("SELECT id FROM call_records"))).scalar_one()
            record = await session.get(CallRecord, stored)
    finally:
        await engine.dispose()
    assert record is not None
    assert record.decided_at == decided
    assert record.decided_at.tzinfo is not None
    assert record.decided_at.utcoffset() == timedelta(0)


async def test_naive_instants_are_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            session.add(_record(decided_at=datetime(2025, 7, 1, 10, 30)))
            with pytest.raises(Exception, match="naive datetime"):
                await session.commit()
    finally:
        await engine.dispose()


def _record(*, decided_at: datetime) -> CallRecord:
    return CallRecord(
        channel="PJSIP/trunk-00000001",
        uniqueid="1700000000.1",
        linkedid="1700000000.1",
        caller_id="0612345678",
        caller_status="unknown",
        window="coordinators",
        target="coordinators",
        reason="test",
        decided_at=decided_at,
        latency_ms=1.0,
        arrived_at=datetime(2025, 7, 1, 8, 30, tzinfo=UTC),
    )
