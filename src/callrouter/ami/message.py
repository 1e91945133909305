"""One AMI message: an ordered list of `Key: Value` headers.

Asterisk repeats header names (e.g. `Output:` lines, a UserEvent whose custom headers clash
with the channel snapshot), so the headers are kept as an ordered list and `get` returns the
first value. A message is classified by its *first* header only: `OriginateResponse` is an
event that also carries a `Response:` header.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping


class MessageKind(enum.Enum):
    RESPONSE = "response"
    EVENT = "event"
    ACTION = "action"
    OTHER = "other"


_KINDS = {
    "Response": MessageKind.RESPONSE,
    "Event": MessageKind.EVENT,
    "Action": MessageKind.ACTION,
}


class Message:
    """An AMI frame. Headers are parsed into a dict lazily: most events are skipped by name."""

    __slots__ = ("_fields", "_folded", "_frame", "_lines", "_lowered", "kind", "name")

    def __init__(self, lines: list[str] | None = None, *, frame: str = "") -> None:
        """From its `lines` ("Key: Value" strings, first line first, never empty), or from
        a decoded `frame` (lines joined by CRLF), split into lines only when read: the
        reader skips most events by name."""
        self._fields: dict[str, str] | None = None
        self._folded: dict[str, str] | None = None
        self._lowered: str | None = None
        if lines is None:
            self._frame = frame
            self._lines = None
            end = frame.find("\r\n")
            first = frame if end < 0 else frame[:end]
        else:
            self._frame = ""
            self._lines = lines
            first = lines[0]
        key, separator, value = first.partition(": ")
        kind = _KINDS.get(key)
        if kind is not None and separator:
            # Asterisk's own spelling: the only case on the ingest path.
            self.kind = kind
            self.name = value
            return
        key, _, value = first.partition(":")
        self.kind = _KINDS.get(key, MessageKind.OTHER)
        if self.kind is MessageKind.OTHER:
            folded = _KINDS.get(key.strip().capitalize())
            if folded is not None:
                self.kind = folded
        self.name = value[1:] if value.startswith(" ") else value

    @classmethod
    def build(
        cls,
        first_key: str,
        first_value: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> Message:
        items = headers.items() if isinstance(headers, Mapping) else headers
        lines = [f"{first_key}: {first_value}"]
        lines.extend(f"{key}: {value}" for key, value in items)
        return cls(lines)

    @classmethod
    def action(
        cls, name: str, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    ) -> Message:
        return cls.build("Action", name, headers)

    @classmethod
    def event(
        cls, name: str, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    ) -> Message:
        return cls.build("Event", name, headers)

    @classmethod
    def response(
        cls, status: str, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()
    ) -> Message:
        return cls.build("Response", status, headers)

    @property
    def lines(self) -> list[str]:
        lines = self._lines
        if lines is None:
            lines = self._lines = self._frame.split("\r\n")
        return lines

    def items(self) -> list[tuple[str, str]]:
        """Every header in order, repeats included."""
        out: list[tuple[str, str]] = []
        for line in self.lines:
            key, _, value = line.partition(":")
            out.append((key, value[1:] if value.startswith(" ") else value))
        return out

    def _index(self) -> dict[str, str]:
        fields = self._fields
        if fields is None:
            try:
                # Asterisk writes every header as "Key: Value": one C-level split per line,
                # reversed so that the first of repeated keys wins (2x faster than a loop;
                # bench/ami_ingest.py).
                fields = dict([line.split(": ", 1) for line in reversed(self.lines)])
            except ValueError:
                fields = self._index_leniently()
            self._fields = fields
        return fields

    def fields(self) -> Mapping[str, str]:
        """Every header by its exact name, the first of repeats: for a reader of most of a
        message's headers, one split instead of a search per header."""
        return self._index()

    def _index_leniently(self) -> dict[str, str]:
        """For a frame with a "Key:Value" or bare line somewhere."""
        fields: dict[str, str] = {}
        for line in self.lines:
            key, _, value = line.partition(":")
            if key not in fields:
                fields[key] = value[1:] if value.startswith(" ") else value
        return fields

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of `key`; exact case first, then case-insensitively."""
        frame = self._frame
        if frame and self._fields is None:
            return self._find(frame, key, default)
        value = self._index().get(key)
        if value is not None:
            return value
        return self._folded_index().get(key.lower(), default)

    def _find(self, frame: str, key: str, default: str | None) -> str | None:
        """`get` on a frame as received: its text is searched for the header's line (C
        speed), without splitting it into lines or indexing every header. The reader's
        subscribers read a few headers of each of ~20 events per call; indexing every
        header of every event was a fifth of the router's CPU (bench/routing_latency.py)."""
        start = _value_start(frame, key)
        if start < 0:
            lowered = self._lowered
            if lowered is None:
                lowered = self._lowered = frame.lower()
            if len(lowered) != len(frame):
                # Lowercasing changed the length (rare non-ASCII letters): offsets differ.
                return self._folded_index().get(key.lower(), default)
            start = _value_start(lowered, key.lower())
            if start < 0:
                return default
        end = frame.find("\r\n", start)
        value = frame[start:] if end < 0 else frame[start:end]
        # As `_index_leniently`: one space after the colon is the separator.
        return value[1:] if value.startswith(" ") else value

    def _folded_index(self) -> dict[str, str]:
        folded = self._folded
        if folded is None:
            folded = {k.lower(): v for k, v in reversed(list(self._index().items()))}
            self._folded = folded
        return folded

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def getall(self, key: str) -> list[str]:
        """Every value of `key`, in order (e.g. the `Output:` lines of a Command)."""
        lowered = key.lower()
        return [v for k, v in self.items() if k.lower() == lowered]

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def is_error(self) -> bool:
        return self.kind is MessageKind.RESPONSE and self.name == "Error"

    @property
    def is_list_start(self) -> bool:
        return self.get("EventList") == "start"

    @property
    def is_list_complete(self) -> bool:
        return self.kind is MessageKind.EVENT and self.get("EventList") == "Complete"

    def encode(self) -> bytes:
        return ("\r\n".join(self.lines) + "\r\n\r\n").encode("utf-8")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self.lines == other.lines

    def __hash__(self) -> int:
        return hash(tuple(self.lines))

    def __repr__(self) -> str:
        return f"Message({self.kind.value}={self.name!r}, {len(self.lines)} headers)"


def message_from_frame(frame: str, colon: int, first_end: int) -> Message:
    """`Message(frame=frame)` for a frame whose first colon is at `colon`, before its
    first line's end at `first_end` (-1: the frame is one line), as the parser has just
    found them: the reader's path for every event, without searching the first line
    again nor the general constructor's branches (bench/ami_parser.py)."""
    kind = _KINDS.get(frame[:colon])
    if kind is None or not frame.startswith(" ", colon + 1):
        return Message(frame=frame)
    message = _new_message(Message)
    message._fields = message._folded = message._lowered = message._lines = None
    message._frame = frame
    message.kind = kind
    message.name = frame[colon + 2 :] if first_end < 0 else frame[colon + 2 : first_end]
    return message


_new_message = object.__new__


def _value_start(text: str, key: str) -> int:
    """Where the value of the first `key:` line of `text` starts (after the colon), or -1."""
    if text.startswith(key) and text.startswith(":", len(key)):
        return len(key) + 1
    at = text.find(f"\r\n{key}:")
    return -1 if at < 0 else at + len(key) + 3
