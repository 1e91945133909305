"""app_queue as the traces show it: callers ordered by priority then arrival, members picked
by the queue's strategy (`rrmemory` or `ringall`), paused or busy members skipped
(`ringinuse=no`), and the list items and member events Asterisk 22 writes for them."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from callrouter.ami import Message
from callrouter.pbxsim.channels import Channel

#: QueueParams ServiceLevel (queues.conf default): answered within it counts as "in service level".
SERVICE_LEVEL = 60

#: The strategies the simulator rings members by (app_queue has more; the hotline uses these).
STRATEGIES = frozenset({"ringall", "rrmemory"})


class MemberStatus:
    """Device states as QueueMember/QueueMemberStatus write them."""

    NOT_INUSE = 1
    INUSE = 2


@dataclass(eq=False)
class Member:
    interface: str
    name: str
    login_time: float
    dynamic: bool = False
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    last_pause: float = 0.0
    calls_taken: int = 0
    last_call: float = 0.0
    ringinuse: bool = False

    def headers(
        self, status: int, *, list_item: bool, in_call: bool = False
    ) -> list[tuple[str, str]]:
        # List items say Name/Location and carry InCall; member events say MemberName/Interface,
        # keep InCall at 0 and add Ringinuse (README of ami-traces, "Inconsistent names").
        name_key, interface_key = ("Name", "Location") if list_item else ("MemberName", "Interface")
        headers = [
            (name_key, self.name),
            (interface_key, self.interface),
            ("StateInterface", self.interface),
            ("Membership", "dynamic" if self.dynamic else "static"),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(int(self.last_call))),
            ("LastPause", str(int(self.last_pause))),
            ("LoginTime", str(int(self.login_time))),
            ("InCall", "1" if in_call and list_item else "0"),
            ("Status", str(status)),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
        ]
        if not list_item:
            headers.append(("Ringinuse", "1" if self.ringinuse else "0"))
        headers.append(("Wrapuptime", "0"))
        return headers


@dataclass(eq=False)
class QueueEntry:
    channel: Channel
    priority: int
    joined_at: float
    original_position: int
    #: QUEUE_MAX_PENALTY (None: no limit) and the queue rule's steps still to come,
    #: (seconds since joining, new max penalty), applied at the start of a ring round.
    max_penalty: int | None = None
    rules: list[tuple[float, int]] = field(default_factory=list)

    def apply_rules(self, now: float) -> None:
        """app_queue's update_qe_rule: every step whose time has passed (strictly)."""
        while self.rules and now - self.joined_at > self.rules[0][0]:
            self.max_penalty = self.rules.pop(0)[1]

    def allows(self, member: Member) -> bool:
        return self.max_penalty is None or member.penalty <= self.max_penalty


@dataclass(eq=False)
class Queue:
    name: str
    strategy: str = "rrmemory"
    members: list[Member] = field(default_factory=list)
    entries: list[QueueEntry] = field(default_factory=list)
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    completed_in_sl: int = 0
    _last_rung: int = -1

    def member(self, interface: str) -> Member | None:
        return next((m for m in self.members if m.interface == interface), None)

    def entry(self, channel_name: str) -> QueueEntry | None:
        return next((e for e in self.entries if e.channel.name == channel_name), None)

    def position(self, entry: QueueEntry) -> int:
        return self.entries.index(entry) + 1

    def join(self, channel: Channel, priority: int, now: float) -> QueueEntry:
        """Behind every caller of the same or higher priority, ahead of lower ones."""
        index = self._place(priority)
        entry = QueueEntry(channel, priority, now, index + 1)
        self.entries.insert(index, entry)
        return entry

    def reprioritise(self, entry: QueueEntry, priority: int, *, immediate: bool) -> None:
        entry.priority = priority
        if immediate:
            self.entries.remove(entry)
            self.entries.insert(self._place(priority), entry)

    def _place(self, priority: int) -> int:
        # Entries are in descending priority: a binary search, thousands may be waiting.
        return bisect.bisect_right(self.entries, -priority, key=lambda e: -e.priority)

    def pick(
        self, available: Callable[[Member], bool], entry: QueueEntry | None = None
    ) -> list[Member]:
        """Members to ring for the next caller: all free ones (ringall) or the next free one
        after the last member rung (rrmemory), among those the caller's penalty allows
        (the escalation rule raises lower penalties to its step, so they ring together)."""
        allowed = [m for m in self.members if entry is None or entry.allows(m)]
        if self.strategy == "ringall":
            return [m for m in allowed if available(m)]
        count = len(self.members)
        for step in range(1, count + 1):
            index = (self._last_rung + step) % count
            if self.members[index] in allowed and available(self.members[index]):
                self._last_rung = index
                return [self.members[index]]
        return []

    def record_answer(self, holdtime: float) -> None:
        # app_queue keeps running averages weighted 3:1 towards the past.
        self.holdtime = (self.holdtime * 3 + int(holdtime)) // 4
        if holdtime <= SERVICE_LEVEL:
            self.completed_in_sl += 1

    def record_completion(self, talktime: float) -> None:
        self.completed += 1
        self.talktime = (self.talktime * 3 + int(talktime)) // 4

    def params_item(self) -> list[tuple[str, str]]:
        handled = self.completed + self.abandoned
        perf = 100.0 * self.completed_in_sl / self.completed if self.completed else 0.0
        perf2 = 100.0 * self.completed_in_sl / handled if handled else 0.0
        return [
            ("Queue", self.name),
            ("Max", "0"),
            ("Strategy", self.strategy),
            ("Calls", str(len(self.entries))),
            ("Holdtime", str(self.holdtime)),
            ("TalkTime", str(self.talktime)),
            ("Completed", str(self.completed)),
            ("Abandoned", str(self.abandoned)),
            ("ServiceLevel", str(SERVICE_LEVEL)),
            ("ServicelevelPerf", f"{perf:.1f}"),
            ("ServicelevelPerf2", f"{perf2:.1f}"),
            ("Weight", "0"),
        ]

    def entry_items(self, now: float) -> Iterable[list[tuple[str, str]]]:
        for position, entry in enumerate(self.entries, start=1):
            channel = entry.channel
            yield [
                ("Queue", self.name),
                ("Position", str(position)),
                ("Channel", channel.name),
                ("Uniqueid", channel.uniqueid),
                ("CallerIDNum", channel.caller_num),
                ("CallerIDName", channel.caller_name),
                ("ConnectedLineNum", channel.connected_num),
                ("ConnectedLineName", channel.connected_name),
                ("Wait", str(int(now - entry.joined_at))),
                ("Priority", str(entry.priority)),
            ]


def list_item(name: str, headers: Iterable[tuple[str, str]], action_id: str | None) -> Message:
    """A list item: no Privilege line, the ActionID last (QueueParams, QueueMember, ...)."""
    items = list(headers)
    if action_id is not None:
        items.append(("ActionID", action_id))
    return Message.event(name, items)
