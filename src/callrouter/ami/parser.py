"""Incremental AMI parser: bytes in, `Message`s out.

Bytes are buffered until a frame's `\\r\\n\\r\\n`, and only whole frames are decoded, so a
UTF-8 character split across two TCP reads is never damaged. The banner
(`Asterisk Call Manager/11.0.0\\r\\n`) is a single line with no blank line after it.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from callrouter.ami.message import Message

log = structlog.get_logger(__name__)

_TERMINATOR = b"\r\n\r\n"
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
        self._expect_banner = expect_banner
        self.banner: str | None = None
        self.malformed = 0
        self._on_malformed = on_malformed

    def feed(self, data: bytes) -> list[Message]:
        buffer = self._buffer + data if self._buffer else data
        if self._expect_banner and self.banner is None:
            end = buffer.find(b"\r\n")
            if end < 0:
                self._buffer = buffer
                return []
            self.banner = buffer[:end].decode("utf-8", "replace")
            buffer = buffer[end + 2 :]
        messages: list[Message] = []
        start = 0
        while True:
            end = buffer.find(_TERMINATOR, start)
            if end < 0:
                break
            frame = buffer[start:end]
            start = end + 4
            if frame:
                message = self._decode(frame)
                if message is not None:
                    messages.append(message)
        rest = buffer[start:]
        if len(rest) > MAX_FRAME_BYTES:
            self._reject(rest[:200], "frame too large without a terminator")
            rest = b""
        self._buffer = rest
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
