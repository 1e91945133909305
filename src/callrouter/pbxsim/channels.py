"""Channels as Asterisk names and describes them on the wire.

Every call leg is a Local channel pair `Local/<exten>@<context>-<8 hex digits>;1` and `;2`
(README of ami-traces: "Local channel names"); Uniqueids are `<epoch>.<n>` with one counter
for the whole PBX.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field

UNKNOWN = "<unknown>"


class ChannelState(enum.IntEnum):
    DOWN = 0
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def description(self) -> str:
        return self.name.capitalize()


class HangupCause(enum.IntEnum):
    UNKNOWN = 0
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_ANSWER = 19

    @property
    def text(self) -> str:
        return _CAUSE_TEXT[self]


_CAUSE_TEXT = {
    HangupCause.UNKNOWN: "Unknown",
    HangupCause.NORMAL_CLEARING: "Normal Clearing",
    HangupCause.USER_BUSY: "User busy",
    HangupCause.NO_ANSWER: "User alerting, no answer",
}


@dataclass(eq=False)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    created_at: float
    state: ChannelState = ChannelState.DOWN
    priority: int = 1
    caller_num: str = UNKNOWN
    caller_name: str = UNKNOWN
    connected_num: str = UNKNOWN
    connected_name: str = UNKNOWN
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)

    #: The latest snapshot lines per prefix, with the field values they were made from.
    _kept: dict[str, tuple[tuple[object, ...], list[str]]] = field(default_factory=dict, repr=False)

    def snapshot_lines(self, prefix: str = "") -> list[str]:
        """The snapshot as `Key: Value` lines, made again only when a field changed: most
        events of a call repeat the same snapshot, and building it was the simulator's
        main cost."""
        values = (
            self.state,
            self.priority,
            self.context,
            self.exten,
            self.caller_num,
            self.caller_name,
            self.connected_num,
            self.connected_name,
        )
        kept = self._kept.get(prefix)
        if kept is not None and kept[0] == values:
            return kept[1]
        lines = [f"{key}: {value}" for key, value in self.snapshot(prefix)]
        self._kept[prefix] = (values, lines)
        return lines

    def snapshot(self, prefix: str = "") -> list[tuple[str, str]]:
        """The channel snapshot fields, in Asterisk's order."""
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(int(self.state))),
            (f"{prefix}ChannelStateDesc", self.state.description),
            (f"{prefix}CallerIDNum", self.caller_num),
            (f"{prefix}CallerIDName", self.caller_name),
            (f"{prefix}ConnectedLineNum", self.connected_num),
            (f"{prefix}ConnectedLineName", self.connected_name),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]

    def set_caller(self, number: str, name: str) -> None:
        self.caller_num, self.caller_name = number, name

    def set_connected(self, number: str, name: str) -> None:
        self.connected_num, self.connected_name = number, name


class ChannelFactory:
    """Hands out Local channel pairs with Asterisk's naming and numbering."""

    def __init__(self) -> None:
        self._pairs = itertools.count()
        self._ids = itertools.count()

    def uniqueid(self, now: float) -> str:
        return f"{int(now)}.{next(self._ids)}"

    def local_pair(
        self, exten: str, context: str, now: float, linkedid: str | None = None
    ) -> tuple[Channel, Channel]:
        base = f"Local/{exten}@{context}-{next(self._pairs):08x}"
        one_id = self.uniqueid(now)
        linked = linkedid or one_id
        one = Channel(f"{base};1", one_id, linked, context, exten, now)
        two = Channel(
            f"{base};2", self.uniqueid(now), linked, context, exten, now, state=ChannelState.RING
        )
        return one, two
