"""Column expressions computed by the database, on both: EpochSeconds gives the whole
seconds Python's floor of `timestamp()` gives, sub-second instants included; JoinedText
gives a group's values as one comma-separated text, NULL for an empty group."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from callrouter.db.engine import create_engine
from callrouter.db.types import EpochSeconds, JoinedText, UTCDateTime

_METADATA = MetaData()
_INSTANTS = Table(
    "test_instants",
    _METADATA,
    Column("id", Integer, primary_key=True),
    Column("grp", Integer),
    Column("at", UTCDateTime()),
)
_BASE = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
_SAMPLES = [
    _BASE,
    _BASE + timedelta(microseconds=1),
    _BASE + timedelta(seconds=1, microseconds=-1),
    _BASE + timedelta(days=3650, microseconds=999_999),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
]


async def test_epoch_seconds_and_joined_text(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_METADATA.create_all)
            await connection.execute(insert(_INSTANTS), [{"grp": 1, "at": at} for at in _SAMPLES])
            seconds = (
                await connection.execute(
                    select(EpochSeconds(_INSTANTS.c.at)).order_by(_INSTANTS.c.id)
                )
            ).scalars()
            assert list(seconds) == [math.floor(at.timestamp()) for at in _SAMPLES]
            joined = (
                await connection.execute(
                    select(JoinedText(_INSTANTS.c.id)).where(_INSTANTS.c.grp == 1)
                )
            ).scalar_one()
            assert sorted(map(int, joined.split(","))) == [1, 2, 3, 4, 5]
            empty = (
                await connection.execute(
                    select(JoinedText(_INSTANTS.c.id)).where(_INSTANTS.c.grp == 2)
                )
            ).scalar_one()
            assert empty is None
            await connection.run_sync(_METADATA.drop_all)
    finally:
        await engine.dispose()
