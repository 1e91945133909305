"""How fast AMI bytes become live state: AMIParser.feed + LiveState.apply, with long queues.

The stream is the real traces (02, 03, 05, 06 of /work/shared/ami-traces) with their banners
removed, repeated until about 200,000 messages, fed in 4 KiB reads as a socket would deliver
them. Repeating is harmless: each repetition opens and closes the same calls again. The state
starts as the server starts it, from the lab PBX's own QueueStatus answer (trace 03).

The caller of trace 02 is made a Pass Prioritaire caller (QUEUE_PRIO 10), so that with callers
already waiting in the coordinators' queue (priority 0) each of its joins lands at position 1,
inside the queue. The run is repeated with 0, 10,000 and 50,000 callers waiting there.

Targets: at least 100,000 events/s through parser + state on one core with no caller waiting,
and within 20 % of that with 10,000 and 50,000 waiting.

    .venv/bin/python bench/ami_ingest.py [--events 200000] [--traces DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from callrouter.ami.message import Message
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
WAITING = (0, 10_000, 50_000)
#: Slowest acceptable ingest with callers waiting, as a share of the empty-queue rate.
LONG_QUEUE_TARGET = 0.8
PRIORITAIRE = (b"Variable: QUEUE_PRIO\r\nValue: 0\r\n", b"Variable: QUEUE_PRIO\r\nValue: 10\r\n")
START = datetime(2026, 11, 23, 11, 39, tzinfo=UTC)


def trace_body(path: Path) -> bytes:
    """The trace without its banner line (sent once per connection, not per repetition)."""
    data = path.read_bytes()
    return data[data.index(b"\r\n") + 2 :]


def build_stream(traces: Path, wanted: int) -> tuple[bytes, int]:
    bodies = [trace_body(traces / f"{name}.ami") for name in SCENARIOS]
    bodies[0] = bodies[0].replace(*PRIORITAIRE)
    body = b"".join(bodies)
    per_round = len(AMIParser(expect_banner=False).feed(body))
    rounds = -(-wanted // per_round)
    return b"Asterisk Call Manager/11.0.0\r\n" + body * rounds, per_round * rounds


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + READ_SIZE] for i in range(0, len(stream), READ_SIZE)]


def lab_queue_status(traces: Path) -> list[Message]:
    """The lab PBX's answer to QueueStatus for every queue (trace 03, action a-013)."""
    data = (traces / "03-priority-queue-experts.ami").read_bytes()
    return [m for m in AMIParser().feed(data) if m.action_id == "a-013"]


def waiting_callers(count: int) -> tuple[list[Message], list[Message]]:
    """QueueEntry and CoreShowChannel items for `count` callers waiting in coordinators."""
    entries, channels = [], []
    for n in range(count):
        channel, uniqueid = f"Local/07{n:08d}@hotline-{n + 0x100000:08x};2", f"1700000000.{n}"
        caller = [("CallerIDNum", f"07{n:08d}"), ("CallerIDName", f"Waiting {n}")]
        entries.append(
            Message.event(
                "QueueEntry",
                [
                    ("Queue", "coordinators"),
                    ("Position", str(n + 1)),
                    ("Channel", channel),
                    ("Uniqueid", uniqueid),
                    *caller,
                    ("Wait", str(count - n)),
                    ("Priority", "0"),
                ],
            )
        )
        channels.append(
            Message.event(
                "CoreShowChannel",
                [("Channel", channel), ("ChannelStateDesc", "Up"), *caller, ("Uniqueid", uniqueid)],
            )
        )
    return entries, channels


def ready_state(status: list[Message], waiting: int) -> LiveState:
    live = LiveState(FakeClock(START))
    entries, channels = waiting_callers(waiting)
    live.rebuild([*status, *entries], channels)
    return live


def ingest(reads: list[bytes], live: LiveState) -> tuple[float, float]:
    """(CPU, wall) seconds to parse every read and apply every message. The targets use CPU
    time: on a shared machine other jobs take the core away, they do not add to our work."""
    parser = AMIParser()
    apply = live.apply
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for data in reads:
        for message in parser.feed(data):
            apply(message)
    return time.process_time() - cpu, time.perf_counter() - wall


def best_times(reads: list[bytes], status: list[Message], repeat: int) -> list[tuple[float, float]]:
    """(CPU, wall) seconds for each number of callers in WAITING: the best of `repeat`
    rounds, the lengths taking turns so that a busy moment of the machine hurts them alike."""
    best = [(float("inf"), float("inf"))] * len(WAITING)
    for _ in range(repeat):
        for index, waiting in enumerate(WAITING):
            live = ready_state(status, waiting)
            coordinators = live.queue("coordinators", limit=1)
            assert coordinators is not None and coordinators.waiting == waiting
            best[index] = min(best[index], ingest(reads, live))
    return best


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--events", type=int, default=200_000)
    options.add_argument("--traces", type=Path, default=TRACES)
    options.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    args = options.parse_args()
    if not args.traces.is_dir():
        print(f"no AMI traces at {args.traces}", file=sys.stderr)
        return 2

    stream, count = build_stream(args.traces, args.events)
    reads = chunks(stream)
    status = lab_queue_status(args.traces)
    print(f"stream: {count:,} messages, {len(stream) / 1e6:.1f} MB in {len(reads):,} reads")

    parser = AMIParser()
    started = time.perf_counter()
    parsed = sum(len(parser.feed(data)) for data in reads)
    parse_time = time.perf_counter() - started
    assert parsed == count, (parsed, count)
    parser = AMIParser()
    messages = [message for data in reads for message in parser.feed(data)]
    live = ready_state(status, 0)
    apply = live.apply
    started = time.perf_counter()
    for message in messages:
        apply(message)
    apply_time = time.perf_counter() - started
    del messages
    print(f"AMIParser.feed alone:       {count / parse_time:>10,.0f} events/s")
    print(f"LiveState.apply alone:      {count / apply_time:>10,.0f} events/s")

    met = True
    times = best_times(reads, status, args.repeat)
    empty_rate = count / times[0][0]
    for waiting, (cpu, wall) in zip(WAITING, times, strict=True):
        rate = count / cpu
        if waiting == 0:
            ok = rate >= TARGET
            verdict = f"target {TARGET:,} events/s {'met' if ok else 'NOT met'}"
        else:
            ok = rate >= LONG_QUEUE_TARGET * empty_rate
            verdict = (
                f"{rate / empty_rate:.2f}x the empty queue, target "
                f"{LONG_QUEUE_TARGET:.1f}x {'met' if ok else 'NOT met'}"
            )
        met = met and ok
        print(
            f"parser + state, {waiting:>6,} waiting (Prioritaire joins): "
            f"{rate:>9,.0f} events/s of CPU ({count / wall:,.0f} wall)  {verdict}"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
