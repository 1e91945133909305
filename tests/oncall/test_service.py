"""The roster in the database: what the rules read back, and admins changing it at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.oncall.roster import Layer, Override, on_call_at
from callrouter.oncall.service import RosterConflict, RosterService


async def test_what_is_stored_is_what_the_rules_read(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        service = RosterService(
            session_factory(engine),
            FakeClock(datetime(2025, 3, 4, 9, tzinfo=UTC)),
            HotlineCalendar.default().on_call,
        )
        for name in ("Emma", "Hugo", "Sophie"):
            await service.add_person(name, f"PJSIP/{name.lower()}")
        await service.set_rotation(
            Layer.PRIMARY,
            ["Hugo", "Emma"],
            shift_days=1,
            handoff_at=time(18),
            first_handoff=date(2025, 3, 3),
        )
        start = datetime(2025, 3, 4, 20, tzinfo=PARIS)
        end = datetime(2025, 3, 4, 22, tzinfo=PARIS)
        await service.add_override("Emma", "Sophie", start, end)
        roster = await service.roster()
        assert roster.rotations[Layer.PRIMARY].people == ("Hugo", "Emma")
        assert roster.rotations[Layer.PRIMARY].handoff_at == time(18)
        assert roster.overrides == (Override("Emma", "Sophie", start, end),)
        team = on_call_at(roster, datetime(2025, 3, 4, 21, tzinfo=PARIS))
        assert team.primary is not None and team.primary.contact == "PJSIP/sophie"
        assert [planned.id for planned in await service.planned_overrides()] == [1]
    finally:
        await engine.dispose()


async def test_admins_setting_one_rotation_at_once(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        service = RosterService(
            session_factory(engine),
            FakeClock(datetime(2025, 3, 4, 9, tzinfo=UTC)),
            HotlineCalendar.default().on_call,
        )
        names = [f"Tech {n}" for n in range(6)]
        for name in names:
            await service.add_person(name, "PJSIP/x")

        async def set_(n: int) -> str:
            try:
                await service.set_rotation(
                    Layer.PRIMARY,
                    names[n:] + names[:n],
                    shift_days=7,
                    handoff_at=time(8),
                    first_handoff=date(2025, 3, 3),
                )
            except RosterConflict:
                return "conflict"
            return "set"

        outcomes = await asyncio.gather(*(set_(n) for n in range(6)))
        assert "set" in outcomes
        # Whoever won, the rotation is whole: six people, each once, in one of the orders.
        people = (await service.roster()).rotations[Layer.PRIMARY].people
        assert sorted(people) == names
    finally:
        await engine.dispose()
