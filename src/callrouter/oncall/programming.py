"""The on-call queue's members, set from the roster (issue 10, item 2).

At each hand-off, after every AMI login and every `recheck` seconds (the admin's
changes), callrouter reads the queue's members from the PBX and applies only the
difference to what the roster wants now (QueueAdd, QueueRemove, QueuePenalty): running it
twice, or while another instance did, changes nothing. Members written in queues.conf
(static) are the PBX admin's and left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from callrouter.ami.errors import AMIError
from callrouter.ami.message import Message
from callrouter.clock import Clock
from callrouter.oncall.escalation import (
    Member,
    MemberChanges,
    member_changes,
    wanted_members,
)
from callrouter.oncall.roster import Layer, Roster, hand_offs_between, on_call_at

log = structlog.get_logger(__name__)

Headers = Sequence[tuple[str, str]]


class QueuePBX(Protocol):
    async def send_list_action(self, name: str, headers: Headers = ()) -> list[Message]: ...

    async def send_actions(
        self, actions: Sequence[tuple[str, Headers]]
    ) -> list[Message | AMIError]: ...


def queue_members(items: Sequence[Message], queue: str) -> dict[str, int]:
    """The dynamic members of `queue` in a QueueStatus answer: interface -> penalty."""
    members: dict[str, int] = {}
    for item in items:
        if item.name != "QueueMember" or item.get("Queue") != queue:
            continue
        if (item.get("Membership") or "dynamic") == "static":
            continue
        interface, penalty = item.get("Location"), item.get("Penalty") or "0"
        if interface:
            members[interface] = int(penalty) if penalty.isdigit() else 0
    return members


def member_actions(queue: str, changes: MemberChanges) -> list[tuple[str, Headers]]:
    actions: list[tuple[str, Headers]] = [
        ("QueueRemove", (("Queue", queue), ("Interface", interface)))
        for interface in changes.remove
    ]
    actions += [
        (
            "QueueAdd",
            (
                ("Queue", queue),
                ("Interface", member.interface),
                ("Penalty", str(member.penalty)),
                ("MemberName", member.name),
            ),
        )
        for member in changes.add
    ]
    actions += [
        (
            "QueuePenalty",
            (("Queue", queue), ("Interface", member.interface), ("Penalty", str(member.penalty))),
        )
        for member in changes.penalty
    ]
    return actions


class MemberProgrammer:
    """Keeps the on-call queue's members equal to the roster. `run` is the timer task; its
    owner cancels it on shutdown. `program` is also awaited after every AMI login.
    `on_status` sees each QueueStatus answer read."""

    def __init__(
        self,
        pbx: QueuePBX,
        roster: Callable[[], Awaitable[Roster]],
        clock: Clock,
        *,
        queue: str,
        recheck: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_status: Callable[[Sequence[Message]], None] | None = None,
    ) -> None:
        self._pbx = pbx
        self._roster = roster
        self._clock = clock
        self._queue = queue
        self._recheck = recheck
        self._sleep = sleep
        self._on_status = on_status
        self._lock = asyncio.Lock()
        self._members: dict[str, Member] = {}

    def layer_of(self, interface: str) -> Layer | None:
        """The layer a member was added for (what the escalation tracking shows)."""
        member = self._members.get(interface)
        return None if member is None else member.layer

    async def program(self) -> MemberChanges:
        """Reads the members and applies the difference; raises AMIError when the link
        fails (the next login or tick tries again)."""
        async with self._lock:
            roster = await self._roster()
            at = self._clock.now()
            team = on_call_at(roster, at)
            wanted, unreachable = wanted_members(team)
            for name in unreachable:
                log.error("oncall.contact_not_dialable", technician=name)
            items = await self._pbx.send_list_action("QueueStatus", (("Queue", self._queue),))
            if self._on_status is not None:
                # the escalation tracking learns the penalties and who waits
                self._on_status(items)
            current = queue_members(items, self._queue)
            changes = member_changes(current, wanted)
            if changes:
                answers = await self._pbx.send_actions(member_actions(self._queue, changes))
                failed = [str(a) for a in answers if isinstance(a, AMIError)]
                if failed:
                    log.error("oncall.members_not_set", queue=self._queue, errors=failed)
            self._members = dict(wanted)
            log.info(
                "oncall.members_programmed",
                queue=self._queue,
                at=at.isoformat(),
                members={m.interface: m.penalty for m in wanted.values()},
                added=[m.interface for m in changes.add],
                removed=list(changes.remove),
                penalty_changed=[m.interface for m in changes.penalty],
            )
            return changes

    async def run(self) -> None:
        """Programs the members now, then at each hand-off (at most `recheck` apart)."""
        while True:
            try:
                await self.program()
            except AMIError as error:
                log.warning("oncall.members_not_programmed", queue=self._queue, error=str(error))
            except Exception:
                # the database is away: try again at the next tick
                log.exception("oncall.members_not_programmed", queue=self._queue)
            await self._sleep(await self._seconds_to_next_change())

    async def _seconds_to_next_change(self) -> float:
        now = self._clock.now()
        horizon = now + timedelta(seconds=self._recheck)
        try:
            changes = hand_offs_between(await self._roster(), now, horizon)
        except Exception:
            log.exception("oncall.roster_unreadable")
            changes = []
        return _seconds_between(now, changes[0] if changes else horizon)


def _seconds_between(now: datetime, then: datetime) -> float:
    return max((then - now).total_seconds(), 0.0)
