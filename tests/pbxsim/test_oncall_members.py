"""Over real TCP with the simulator: callrouter's AMI client sets the on-call queue's
members from the roster, with their layers' penalties, and setting them again changes
nothing (issue 10, item 2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest

from callrouter.ami.client import AMIClient
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.oncall.programming import MemberProgrammer, queue_members
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician
from callrouter.pbxsim import PBXSimulator, SimulatorSettings

# Tuesday 4 March 2025, 21:00 in Paris: on call.
NIGHT = datetime(2025, 3, 4, 20, 0, tzinfo=UTC)
ROSTER = Roster(
    HotlineCalendar.default().on_call,
    {
        "Alice": Technician("Alice", "0611111111"),
        "Bruno": Technician("Bruno", "PJSIP/bruno"),
        "Manon": Technician("Manon", "0633333333"),
    },
    {
        Layer.PRIMARY: Rotation(("Alice",), 7, time(8), date(2025, 3, 3)),
        Layer.SECONDARY: Rotation(("Bruno",), 7, time(8), date(2025, 3, 3)),
        Layer.MANAGER: Rotation(("Manon",), 7, time(8), date(2025, 3, 3)),
    },
)


@pytest.fixture
async def ami() -> AsyncIterator[AMIClient]:
    simulator = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="hotline",
            secret="hotline-secret",
            time_scale=0.01,
            seed=3,
            queues={"oncall": []},
        )
    )
    await simulator.start()
    client = AMIClient("127.0.0.1", simulator.port, "hotline", "hotline-secret")
    try:
        await client.connect()
        yield client
    finally:
        await client.close()
        await simulator.stop()


async def test_the_roster_becomes_the_queue_members_once(ami: AMIClient) -> None:
    async def roster() -> Roster:
        return ROSTER

    programmer = MemberProgrammer(ami, roster, FakeClock(NIGHT), queue="oncall", recheck=60)
    first = await programmer.program()
    again = await programmer.program()

    assert len(first.add) == 3 and not again
    members = queue_members(
        await ami.send_list_action("QueueStatus", (("Queue", "oncall"),)), "oncall"
    )
    assert members == {
        "Local/0611111111@oncall-technician": 0,
        "Local/pjsip-bruno@oncall-technician": 1,
        "Local/0633333333@oncall-technician": 2,
    }
