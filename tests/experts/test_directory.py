"""The experts' directory on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.experts.config import ExpertsConfig
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.errors import ExpertExists, InvalidExpert, UnknownDomain, UnknownExpert
from callrouter.experts.rules import on_duty

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris


@pytest.fixture
async def directory(database_url: str) -> AsyncIterator[ExpertDirectory]:
    engine = create_engine(database_url)
    try:
        yield ExpertDirectory(
            session_factory(engine), FakeClock(NOW), HotlineCalendar.default(), ExpertsConfig()
        )
    finally:
        await engine.dispose()


async def test_add_absent_remove(directory: ExpertDirectory) -> None:
    await directory.add("Léa", "PJSIP/expert7", ["knx", "hvac"])
    await directory.add("Paul", "Local/expert8@experts", ["lighting"], hours="severity")
    await directory.absent("Léa", NOW - timedelta(hours=1), NOW + timedelta(hours=2), "médecin")
    await directory.absent("Léa", NOW - timedelta(days=2), NOW - timedelta(days=1), "passée")
    lea, paul = await directory.all()
    assert lea.domains == {"knx", "hvac"} and len(lea.absences) == 1  # the past one is over
    assert not on_duty(lea, NOW) and on_duty(lea, NOW + timedelta(hours=3))
    assert not on_duty(paul, NOW - timedelta(minutes=90))  # 08:30: severity opens at 09:00
    assert on_duty(paul, NOW - timedelta(minutes=60))
    assert [entry.expert.name for entry in await directory.entries("knx")] == ["Léa"]
    await directory.remove("Paul")
    assert [expert.name for expert in await directory.all()] == ["Léa"]
    # The name and the phone are free again once removed.
    await directory.add("Paul", "Local/expert8@experts", ["lighting"])


async def test_refusals(directory: ExpertDirectory) -> None:
    await directory.add("Léa", "PJSIP/expert7", ["knx"])
    with pytest.raises(ExpertExists):
        await directory.add("Léa", "PJSIP/expert9", ["knx"])
    with pytest.raises(ExpertExists):
        await directory.add("Other", "PJSIP/expert7", ["knx"])
    with pytest.raises(UnknownDomain):
        await directory.add("Other", "PJSIP/other", ["knx", "plumbing"])
    with pytest.raises(InvalidExpert):
        await directory.add("Other", "expert9", ["knx"])  # not a dial string
    with pytest.raises(InvalidExpert):
        await directory.add("Other", "PJSIP/other", ["knx"], hours="nights")
    with pytest.raises(InvalidExpert):
        await directory.absent("Léa", NOW, NOW, "")
    with pytest.raises(UnknownExpert):
        await directory.absent("Nobody", NOW, NOW + timedelta(hours=1), "")
    assert [expert.name for expert in await directory.all()] == ["Léa"]
