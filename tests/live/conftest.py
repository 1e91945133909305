"""Replaying the captured AMI traces into the live state, read by read as they arrived."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callrouter.ami.message import Message
from callrouter.ami.parser import AMIParser
from callrouter.clock import FakeClock

#: When the traces were captured (README of ami-traces); only differences matter here.
CAPTURE_START = datetime(2026, 11, 23, 11, 39, 0, tzinfo=UTC)

Replay = Callable[[str, FakeClock], Iterator[Message]]


@pytest.fixture
def replay(traces_dir: Path) -> Replay:
    """Yield the messages Asterisk sent in trace `name`, one TCP read at a time, with the fake
    clock set to the moment each read arrived (`t` of the timeline)."""

    def messages(name: str, clock: FakeClock) -> Iterator[Message]:
        data = (traces_dir / f"{name}.ami").read_bytes()
        parser = AMIParser()
        for line in (traces_dir / f"{name}.timeline.jsonl").read_text().splitlines():
            read = json.loads(line)
            if read["dir"] != "recv":
                continue
            clock.set(CAPTURE_START + timedelta(seconds=read["t"]))
            yield from parser.feed(data[read["off"] : read["off"] + read["len"]])

    return messages


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(CAPTURE_START)
