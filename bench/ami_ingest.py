"""How fast AMI bytes become live state: AMIParser.feed + LiveState.apply.

The stream is the real traces (02, 03, 05, 06 of /work/shared/ami-traces) with their banners
removed, repeated until about 200,000 messages, fed in 4 KiB reads as a socket would deliver
them. Repeating is harmless: each repetition opens and closes the same calls again.

Target: at least 100,000 events/s through parser + state on one core.

    .venv/bin/python bench/ami_ingest.py [--events 200000] [--traces DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from callrouter.ami.parser import AMIParser
from callrouter.clock import FakeClock
from callrouter.live.state import LiveState

TRACES = Path(__file__).resolve().parents[2] / "shared" / "ami-traces"
SCENARIOS = (
    "02-inbound-queue-answered",
    "03-priority-queue-experts",
    "05-originate-callback",
    "06-queue-member-mgmt",
)
READ_SIZE = 4096
TARGET = 100_000


def trace_body(path: Path) -> bytes:
    """The trace without its banner line (sent once per connection, not per repetition)."""
    data = path.read_bytes()
    return data[data.index(b"\r\n") + 2 :]


def build_stream(traces: Path, wanted: int) -> tuple[bytes, int]:
    body = b"".join(trace_body(traces / f"{name}.ami") for name in SCENARIOS)
    per_round = len(AMIParser(expect_banner=False).feed(body))
    rounds = -(-wanted // per_round)
    return b"Asterisk Call Manager/11.0.0\r\n" + body * rounds, per_round * rounds


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + READ_SIZE] for i in range(0, len(stream), READ_SIZE)]


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--events", type=int, default=200_000)
    options.add_argument("--traces", type=Path, default=TRACES)
    args = options.parse_args()
    if not args.traces.is_dir():
        print(f"no AMI traces at {args.traces}", file=sys.stderr)
        return 2

    stream, count = build_stream(args.traces, args.events)
    reads = chunks(stream)
    print(f"stream: {count:,} messages, {len(stream) / 1e6:.1f} MB in {len(reads):,} reads")

    parser = AMIParser()
    started = time.perf_counter()
    parsed = sum(len(parser.feed(data)) for data in reads)
    parse_time = time.perf_counter() - started
    assert parsed == count, (parsed, count)

    parser = AMIParser()
    messages = [message for data in reads for message in parser.feed(data)]

    live = LiveState(FakeClock(datetime(2026, 11, 23, 11, 39, tzinfo=UTC)))
    apply = live.apply
    started = time.perf_counter()
    for message in messages:
        apply(message)
    apply_time = time.perf_counter() - started

    parser = AMIParser()
    live = LiveState(FakeClock(datetime(2026, 11, 23, 11, 39, tzinfo=UTC)))
    apply = live.apply
    started = time.perf_counter()
    for data in reads:
        for message in parser.feed(data):
            apply(message)
    total_time = time.perf_counter() - started

    rate = count / total_time
    print(f"AMIParser.feed alone:       {count / parse_time:>10,.0f} events/s")
    print(f"LiveState.apply alone:      {count / apply_time:>10,.0f} events/s")
    print(f"parser + state, end to end: {rate:>10,.0f} events/s ({total_time:.2f} s)")
    print(f"target {TARGET:,} events/s: {'met' if rate >= TARGET else 'NOT met'}")
    print(f"state after the run: {len(live.calls())} live calls, {len(live.queues())} queues")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
