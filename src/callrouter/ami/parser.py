"""Incremental AMI parser: bytes in, `Message`s out.

Bytes are buffered until a frame's `\\r\\n\\r\\n`, and only whole frames are decoded, so a
UTF-8 character split across two TCP reads is never damaged. The banner
(`Asterisk Call Manager/11.0.0\\r\\n`) is a single line with no blank line after it.

A bad frame never stops the stream: a frame whose first line is not a header is counted
and skipped, and a frame longer than `MAX_FRAME_BYTES` is dropped up to its terminator,
where parsing picks up again. The limits hold whatever the sizes of the reads: the same
bytes split any way give the same messages and the same rejections, and the work done is
linear in the bytes received (a frame dripped one byte per read is never copied again
for every read).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from callrouter.ami.message import Message, message_from_frame

log = structlog.get_logger(__name__)

_TERMINATOR = b"\r\n\r\n"
_LINE_END = b"\r\n"
#: A terminator can straddle two reads: this many bytes of a read may start the next one's.
_OVERLAP = len(_TERMINATOR) - 1
#: A frame larger than this (terminator excluded) is garbage, not a slow message.
MAX_FRAME_BYTES = 1 << 20
#: Asterisk's banner is about 30 bytes; a longer first line is not a banner.
MAX_BANNER_BYTES = 256
#: How much of a rejected frame is handed to `on_malformed`.
_SAMPLE = 200


class AMIParser:
    def __init__(
        self,
        *,
        expect_banner: bool = True,
        on_malformed: Callable[[bytes, str], None] | None = None,
    ) -> None:
        # The start of an unfinished frame (or of the banner line). Extended in place, so
        # a frame arriving in many small reads costs its length, not its length squared.
        self._pending = bytearray()
        # Where the terminator search resumes in `_pending`.
        self._searched = 0
        # While dropping an oversized frame: its last bytes, which may start the terminator.
        self._discarding = False
        self._tail = b""
        self._in_banner = expect_banner
        self.banner: str | None = None
        self.malformed = 0
        #: Bytes copied or searched so far: stays proportional to the bytes fed (tests).
        self.examined = 0
        self._on_malformed = on_malformed

    def feed(self, data: bytes) -> list[Message]:
        if self._in_banner:
            data = self._feed_banner(data)
        if self._discarding and data:
            data = self._skip_to_terminator(data)
        if not data:
            return []
        return self._feed_frames(data)

    def _feed_banner(self, data: bytes) -> bytes:
        """Collects the banner line (at most MAX_BANNER_BYTES); returns the bytes after it."""
        pending = self._pending
        already = len(pending)
        # Only the bytes that can still belong to an acceptable banner line are kept.
        room = MAX_BANNER_BYTES + len(_LINE_END) - already
        pending += data[:room]
        self.examined += min(len(data), room) + len(pending) - max(already - 1, 0)
        end = pending.find(_LINE_END, max(already - 1, 0))
        if end >= 0:
            self.banner = pending[:end].decode("utf-8", "replace")
            self._in_banner = False
            rest = data[end + len(_LINE_END) - already :]
            pending.clear()
            return rest
        if len(pending) < MAX_BANNER_BYTES + len(_LINE_END):
            return b""
        # No line end where a banner's must be: not an Asterisk. The client refuses the
        # banner; what follows is skipped like an oversized frame.
        self.banner = pending[:MAX_BANNER_BYTES].decode("utf-8", "replace")
        self._in_banner = False
        self._reject(bytes(pending[:_SAMPLE]), "banner line too long")
        self._discarding = True
        self._tail = bytes(pending[-_OVERLAP:])
        pending.clear()
        return data[room:]

    def _skip_to_terminator(self, data: bytes) -> bytes:
        """Drops an oversized frame's bytes; returns what follows its terminator."""
        joined = self._tail + data
        self.examined += 2 * len(joined)
        end = joined.find(_TERMINATOR)
        if end < 0:
            self._tail = joined[-_OVERLAP:]
            return b""
        self._discarding = False
        self._tail = b""
        return joined[end + len(_TERMINATOR) :]

    def _feed_frames(self, data: bytes) -> list[Message]:
        pending = self._pending
        if pending:
            pending += data
            self.examined += len(data) + len(pending) - self._searched
            end = pending.find(_TERMINATOR, self._searched)
            if end < 0:
                self._searched = max(len(pending) - _OVERLAP, 0)
                if len(pending) - _OVERLAP > MAX_FRAME_BYTES:
                    self._drop_oversized(pending)
                return []
            # One copy of the unfinished frame and this read; then as if all came at once.
            buffer = bytes(pending)
            self.examined += len(buffer)
            pending.clear()
            search = end
        else:
            buffer = data
            search = 0
        # The last terminator's end: the frames before it are complete.
        last = buffer.rfind(_TERMINATOR)
        decoded: list[Message] | None = None
        if last < 0:
            last = -len(_TERMINATOR)  # nothing complete (only a first read can get here)
            decoded = []
        elif last <= MAX_FRAME_BYTES and buffer[last - 2 : last] != _LINE_END:
            # (A line end just before the last terminator: overlapping terminators, which
            # a forward scan cuts differently.)
            decoded = self._decode_all(buffer, last)
        if decoded is None:
            decoded = []
            last = self._decode_one_by_one(buffer, search, decoded)
        messages = decoded
        start = last + len(_TERMINATOR)
        rest = len(buffer) - start
        if rest:
            pending += memoryview(buffer)[start:]
            self.examined += rest
            self._searched = max(rest - _OVERLAP, 0)
            if rest - _OVERLAP > MAX_FRAME_BYTES:
                self._drop_oversized(pending)
        return messages

    def _decode_all(self, buffer: bytes, last: int) -> list[Message] | None:
        """The usual case: well-formed frames, none oversized, no stray line ends; None
        when a frame is malformed or starts with a stray line end (then the frames are
        cut one by one).

        Everything up to the last terminator is decoded at once, then split: a terminator
        is ASCII, so no UTF-8 character spans two frames, and an invalid sequence is
        replaced exactly as when each frame is decoded alone."""
        self.examined += 2 * last
        messages: list[Message] = []
        append = messages.append
        for frame in buffer[:last].decode("utf-8", "replace").split("\r\n\r\n"):
            # A header's colon before the first line end; no stray line end in front.
            colon = frame.find(":")
            first_end = frame.find("\r\n")
            if colon < 0 or 0 <= first_end < colon or frame[0] in "\r\n":
                return None
            append(message_from_frame(frame, colon, first_end))
        return messages

    def _decode_one_by_one(self, buffer: bytes, search: int, messages: list[Message]) -> int:
        """Frame by frame, for oversized frames and stray line ends; returns where the
        last terminator starts."""
        self.examined += len(buffer) - search
        start = 0
        last = -len(_TERMINATOR)
        while True:
            end = buffer.find(_TERMINATOR, search)
            if end < 0:
                return last
            if end - start > MAX_FRAME_BYTES:
                self._reject(buffer[start : start + _oversized_sample()], "frame too large")
            elif end > start:
                message = self._decode(buffer[start:end])
                if message is not None:
                    messages.append(message)
            last = end
            start = search = end + len(_TERMINATOR)

    def _drop_oversized(self, pending: bytearray) -> None:
        """`pending` holds more than MAX_FRAME_BYTES without a terminator: reject it now,
        keep only the bytes that may begin its terminator."""
        self._reject(bytes(pending[: _oversized_sample()]), "frame too large")
        self._discarding = True
        self._tail = bytes(pending[-_OVERLAP:])
        pending.clear()
        self._searched = 0

    def _decode(self, frame: bytes) -> Message | None:
        # Stray CRLFs between frames (seen with some proxies) are not frames.
        frame = frame.lstrip(b"\r\n")
        if not frame:
            return None
        text = frame.decode("utf-8", "replace")
        lines = text.split("\r\n")
        if ":" not in lines[0]:
            self._reject(frame, "first line is not a `Key: Value` header")
            return None
        return Message(lines)

    def _reject(self, frame: bytes, reason: str) -> None:
        self.malformed += 1
        if self._on_malformed is not None:
            self._on_malformed(frame, reason)
        else:
            log.warning("ami.frame.malformed", reason=reason, frame=frame[:_SAMPLE])

    @property
    def pending(self) -> int:
        """Bytes buffered while waiting for the end of a frame (or of the banner)."""
        return len(self._pending) + len(self._tail)


def _oversized_sample() -> int:
    """The same bytes of an oversized frame are reported however it arrived: never more
    than the frame itself, wherever its terminator fell."""
    return min(_SAMPLE, MAX_FRAME_BYTES)
