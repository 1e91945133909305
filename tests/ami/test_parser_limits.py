"""The parser's limits do not depend on how the bytes were cut into reads, and its work
stays linear in the bytes it is fed (issue 7, item 14)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from callrouter.ami import AMIParser, Message
from callrouter.ami import parser as parser_module

#: Small limits, so that every read size of a whole stream can be tried.
FRAME_LIMIT = 64
BANNER_LIMIT = 40
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser_module, "MAX_FRAME_BYTES", FRAME_LIMIT)
    monkeypatch.setattr(parser_module, "MAX_BANNER_BYTES", BANNER_LIMIT, raising=False)


def frame_of(size: int, name: str = "Padded") -> bytes:
    """An event frame of exactly `size` bytes before its terminator (with a 2-byte é)."""
    head = f"Event: {name}\r\nCallerIDName: é".encode()
    return head + b"x" * (size - len(head)) + b"\r\n\r\n"


@dataclass
class Outcome:
    banner: str | None
    messages: list[Message]
    rejected: list[tuple[bytes, str]]
    pending: int


def parse(stream: bytes, read_size: int, *, expect_banner: bool = True) -> Outcome:
    rejected: list[tuple[bytes, str]] = []
    parser = AMIParser(
        expect_banner=expect_banner, on_malformed=lambda frame, why: rejected.append((frame, why))
    )
    messages: list[Message] = []
    for offset in range(0, len(stream), read_size):
        messages.extend(parser.feed(stream[offset : offset + read_size]))
    assert parser.malformed == len(rejected)
    return Outcome(parser.banner, messages, rejected, parser.pending)


def every_read_size(stream: bytes, *, expect_banner: bool = True) -> list[Outcome]:
    return [parse(stream, size, expect_banner=expect_banner) for size in range(1, len(stream) + 1)]


def test_frames_at_and_past_the_limit_meet_the_same_fate_whatever_the_reads() -> None:
    stream = (
        BANNER
        + frame_of(FRAME_LIMIT, "AtTheLimit")
        + frame_of(FRAME_LIMIT + 1, "OneTooMany")
        + frame_of(FRAME_LIMIT + 3, "ThreeTooMany")
        + frame_of(FRAME_LIMIT + 4, "FourTooMany")
        + frame_of(30, "Small")
        + frame_of(3 * FRAME_LIMIT, "Huge")
        + frame_of(30, "Last")
    )

    outcomes = every_read_size(stream)

    first = outcomes[0]
    assert [m.name for m in first.messages] == ["AtTheLimit", "Small", "Last"]
    assert [why for _, why in first.rejected] == ["frame too large"] * 4
    assert first.messages[0].get("CallerIDName", "").startswith("é")
    assert first.pending == 0
    for size, outcome in enumerate(outcomes, start=1):
        assert outcome == first, f"reads of {size} bytes"


def test_a_frame_cut_off_at_the_end_is_judged_the_same_whatever_the_reads() -> None:
    # No terminator yet: an oversized start is rejected at once, a short one is kept.
    for tail, rejections in ((b"Event: Partial\r\n" + b"y" * 80, 1), (b"Event: Partial", 0)):
        outcomes = every_read_size(frame_of(20, "Before") + tail, expect_banner=False)
        assert len(outcomes[0].rejected) == rejections
        assert all(outcome == outcomes[0] for outcome in outcomes)


def test_the_banner_has_a_cap_too_whatever_the_reads() -> None:
    at_the_limit = b"Asterisk Call Manager/" + b"9" * (BANNER_LIMIT - 22) + b"\r\n"
    outcomes = every_read_size(at_the_limit + frame_of(20, "After"))
    assert outcomes[0].banner == at_the_limit[:-2].decode()
    assert [m.name for m in outcomes[0].messages] == ["After"]
    assert all(outcome == outcomes[0] for outcome in outcomes)

    too_long = b"Asterisk Call Manager/" + b"9" * (BANNER_LIMIT - 21) + b"\r\n"
    outcomes = every_read_size(too_long + frame_of(20, "Skipped") + frame_of(20, "Next"))
    assert [why for _, why in outcomes[0].rejected] == ["banner line too long"]
    assert outcomes[0].banner == too_long[:BANNER_LIMIT].decode()
    assert [m.name for m in outcomes[0].messages] == ["Next"]
    assert all(outcome == outcomes[0] for outcome in outcomes)


def test_bytes_before_a_banner_are_not_hoarded() -> None:
    parser = AMIParser(on_malformed=lambda frame, why: None)
    for _ in range(10_000):
        parser.feed(b"z" * 1000)  # 10 MB without a line end

    assert parser.pending <= BANNER_LIMIT + 2
    assert parser.malformed == 1


def drip(size: int) -> int:
    """Feeds a frame of `size` bytes one byte per read; returns the parser's work."""
    parser = AMIParser(expect_banner=False)
    data = b"Event: Big\r\nData: " + b"d" * (size - 18) + b"\r\n\r\n"
    messages: list[Message] = []
    for i in range(len(data)):
        messages.extend(parser.feed(data[i : i + 1]))
    assert [m.name for m in messages] == ["Big"]
    return parser.examined


def test_a_frame_dripped_one_byte_per_read_costs_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parser_module, "MAX_FRAME_BYTES", 1 << 20)
    small, large = drip(5_000), drip(40_000)

    # Each byte is looked at a few times, not once per read that followed it.
    assert small <= 10 * 5_000
    assert large <= 10 * 40_000
    assert large / small < 8 * 1.5


def test_stray_line_ends_bad_utf8_and_bad_frames_parse_the_same_whatever_the_reads() -> None:
    # The whole-read decoding and the frame-by-frame one must agree byte for byte.
    stream = (
        b"\r\nEvent: A\r\nName: \xc3\r\n\r\n\r\n"
        + b"\nEvent: B\r\n\r\n\r\n\r\n"
        + b"not a header\r\nKey: v\r\n\r\n"
        + b"Event: C\r\nName: caf\xc3\xa9 \xff\xfe\r\n\r\n\r\n\r\n\r\n"
        + b"Response: Success\r\nActionID: 1\r\n\r\n"
    )

    outcomes = every_read_size(stream, expect_banner=False)

    assert [m.name for m in outcomes[0].messages] == ["A", "B", "C", "Success"]
    assert outcomes[0].messages[2].get("Name") == "café \ufffd\ufffd"
    assert [why for _, why in outcomes[0].rejected] == ["first line is not a `Key: Value` header"]
    assert all(outcome == outcomes[0] for outcome in outcomes)
