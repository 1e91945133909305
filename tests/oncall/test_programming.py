"""The on-call queue's members follow the roster: by difference, at each hand-off, and
idempotently (issue 10, item 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest

from callrouter.ami.errors import AMIConnectionError, AMIError
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.oncall.programming import MemberProgrammer
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician

Headers = Sequence[tuple[str, str]]
PEOPLE = {
    "Alice": Technician("Alice", "0611111111"),
    "Bruno": Technician("Bruno", "PJSIP/bruno"),
    "Manon": Technician("Manon", "0633333333"),
}
ALICE, BRUNO, MANON = (
    "Local/0611111111@oncall-technician",
    "Local/pjsip-bruno@oncall-technician",
    "Local/0633333333@oncall-technician",
)
# Tuesday 4 March 2025 20:00 in Paris (19:00 UTC): on call; daily hand-off at 21:00 local.
T0 = datetime(2025, 3, 4, 19, 0, tzinfo=UTC)


def daily(*people: str) -> Rotation:
    return Rotation(tuple(people), 1, time(21), date(2025, 3, 3))


ROSTER = Roster(
    HotlineCalendar.default().on_call,
    PEOPLE,
    {
        Layer.PRIMARY: daily("Alice", "Bruno"),
        Layer.SECONDARY: daily("Bruno", "Alice"),
        Layer.MANAGER: Rotation(("Manon",), 7, time(8), date(2025, 3, 3)),
    },
)


class FakeQueuePBX:
    """app_queue's member list and the actions that change it."""

    def __init__(self, members: dict[str, int] | None = None) -> None:
        self.members = dict(members or {})
        self.static: dict[str, int] = {}
        self.actions: list[tuple[str, dict[str, str]]] = []
        self.down = False

    async def send_list_action(self, name: str, headers: Headers = ()) -> list[Message]:
        if self.down:
            raise AMIConnectionError("link down")
        assert name == "QueueStatus" and dict(headers) == {"Queue": "oncall"}
        items = [
            Message(
                [
                    "Event: QueueMember",
                    "Queue: oncall",
                    f"Location: {interface}",
                    f"Penalty: {penalty}",
                    f"Membership: {membership}",
                ]
            )
            for members, membership in ((self.members, "dynamic"), (self.static, "static"))
            for interface, penalty in members.items()
        ]
        # other queues' members are not ours
        items.append(Message(["Event: QueueMember", "Queue: experts", "Location: Local/x@y"]))
        return items

    async def send_actions(
        self, actions: Sequence[tuple[str, Headers]]
    ) -> list[Message | AMIError]:
        answers: list[Message | AMIError] = []
        for name, headers in actions:
            fields = dict(headers)
            self.actions.append((name, fields))
            if name == "QueueAdd":
                self.members[fields["Interface"]] = int(fields["Penalty"])
            elif name == "QueueRemove":
                del self.members[fields["Interface"]]
            elif name == "QueuePenalty":
                self.members[fields["Interface"]] = int(fields["Penalty"])
            answers.append(Message(["Response: Success"]))
        return answers


def programmer(
    pbx: FakeQueuePBX,
    clock: FakeClock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> MemberProgrammer:
    async def roster() -> Roster:
        return ROSTER

    return MemberProgrammer(pbx, roster, clock, queue="oncall", recheck=7200, sleep=sleep)


async def test_the_team_on_call_becomes_the_queue_members_with_their_layers_penalties() -> None:
    pbx = FakeQueuePBX()

    await programmer(pbx, FakeClock(T0)).program()

    assert pbx.members == {ALICE: 0, BRUNO: 1, MANON: 2}
    added = [fields for name, fields in pbx.actions if name == "QueueAdd"]
    assert {fields["MemberName"] for fields in added} == {"Alice", "Bruno", "Manon"}


async def test_programming_twice_changes_nothing_the_second_time() -> None:
    pbx, clock = FakeQueuePBX(), FakeClock(T0)
    programming = programmer(pbx, clock)
    await programming.program()
    pbx.actions.clear()

    changes = await programming.program()

    assert not changes and pbx.actions == []


async def test_a_hand_off_swaps_penalties_and_removes_whoever_left() -> None:
    # after a restart: yesterday's member still there, Alice and Bruno swapped tonight
    pbx = FakeQueuePBX({ALICE: 0, BRUNO: 1, "Local/0699999999@oncall-technician": 0})
    pbx.static = {"Local/agent5@agents": 0}

    await programmer(pbx, FakeClock(T0 + timedelta(hours=2))).program()

    assert pbx.members == {ALICE: 1, BRUNO: 0, MANON: 2}
    assert sorted(name for name, _ in pbx.actions) == [
        "QueueAdd",
        "QueuePenalty",
        "QueuePenalty",
        "QueueRemove",
    ]
    assert pbx.static == {"Local/agent5@agents": 0}  # the PBX admin's


async def test_the_morning_empties_the_queue() -> None:
    pbx = FakeQueuePBX({ALICE: 0, BRUNO: 1, MANON: 2})

    await programmer(pbx, FakeClock(datetime(2025, 3, 5, 9, 0, tzinfo=UTC))).program()

    assert pbx.members == {}


async def test_the_timer_programs_at_each_hand_off_and_survives_a_link_down() -> None:
    pbx, clock = FakeQueuePBX(), FakeClock(T0)
    pbx.down = True
    slept: list[float] = []
    woke = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))
        pbx.down = False
        if len(slept) == 2:
            woke.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(programmer(pbx, clock, sleep).run())
    try:
        await asyncio.wait_for(woke.wait(), 5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    # 20:00 local: the link was down; it slept until the 21:00 hand-off, then programmed
    # tonight's swapped team, then waited for the next change (08:00), at most `recheck`
    assert slept == [3600.0, 7200.0]
    assert pbx.members == {ALICE: 1, BRUNO: 0, MANON: 2}
