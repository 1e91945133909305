"""Incremental AMI parser: bytes in, `Message`s out.

Bytes are buffered until a frame's `\\r\\n\\r\\n`, and only whole frames are decoded, so a
UTF-8 character split across two TCP reads is never damaged. The banner
(`Asterisk Call Manager/11.0.0\\r\\n`) is a single line with no blank line after it.

A bad frame never stops the stream: a frame whose first line is not a header is counted
and skipped, and a run of bytes longer than `MAX_FRAME_BYTES` without a terminator is
dropped up to the next terminator, where parsing picks up again.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from callrouter.ami.message import Message

log = structlog.get_logger(__name__)

_TERMINATOR = b"\r\n\r\n"
#: A terminator can straddle two reads: this many bytes of a read may start the next one's.
_OVERLAP = len(_TERMINATOR) - 1
#: A frame larger than this without a terminator is garbage, not a slow message.
MAX_FRAME_BYTES = 1 << 20


class AMIParser:
    def __init__(
        self,
        *,
        expect_banner: bool = True,
        on_malformed: Callable[[bytes, str], None] | None = None,
    ) -> None:
        self._buffer = b""
        # Where the search for the next terminator resumes in `_buffer`: a large frame fed
        # in small reads (one byte at a time in the worst case) is scanned once, not again
        # for every read.
        self._searched = 0
        self._discarding = False
        self._expect_banner = expect_banner
        self.banner: str | None = None
        self.malformed = 0
        self._on_malformed = on_malformed

    def feed(self, data: bytes) -> list[Message]:
        buffer = self._buffer + data if self._buffer else data
        search = self._searched
        if self._discarding:
            end = buffer.find(_TERMINATOR)
            if end < 0:
                self._buffer = buffer[-_OVERLAP:]
                return []
            buffer = buffer[end + 4 :]
            search = 0
            self._discarding = False
        if self._expect_banner and self.banner is None:
            end = buffer.find(b"\r\n")
            if end < 0:
                self._buffer = buffer
                return []
            self.banner = buffer[:end].decode("utf-8", "replace")
            buffer = buffer[end + 2 :]
            search = 0
        messages: list[Message] = []
        start = 0
        while True:
            end = buffer.find(_TERMINATOR, search)
            if end < 0:
                break
            frame = buffer[start:end]
            start = search = end + 4
            if frame:
                message = self._decode(frame)
                if message is not None:
                    messages.append(message)
        rest = buffer[start:]
        if len(rest) > MAX_FRAME_BYTES:
            self._reject(rest[:200], "frame too large without a terminator")
            self._discarding = True
            rest = rest[-_OVERLAP:]
        self._buffer = rest
        self._searched = 0 if self._discarding else max(len(rest) - _OVERLAP, 0)
        return messages

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
            log.warning("ami.frame.malformed", reason=reason, frame=frame[:200])

    @property
    def pending(self) -> int:
        """Bytes buffered while waiting for the end of a frame."""
        return len(self._buffer)
