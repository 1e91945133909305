"""How fast AMI events are decoded: by the bare parser, then end to end over loopback TCP.

    python bench/ami_parser.py [--events N] [--read-size BYTES]

The events are the real ones of /work/shared/ami-traces (every `Event:` frame of every
transcript, byte for byte), repeated until there are N of them. First they are fed to
AMIParser in reads of --read-size bytes; then a local server sends them down a TCP socket
to an AMIClient that counts them in a subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import structlog

from callrouter.ami import AMIClient, AMIParser, Message

TRACES = Path(__file__).resolve().parents[2] / "shared" / "ami-traces"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def trace_events() -> list[bytes]:
    """Every event frame of the captured transcripts, as the bytes Asterisk sent."""
    frames: list[bytes] = []
    for path in sorted(TRACES.glob("*.ami")):
        data = path.read_bytes()
        body = data[data.index(b"\r\n") + 2 :]
        frames.extend(
            frame + b"\r\n\r\n" for frame in body.split(b"\r\n\r\n") if frame.startswith(b"Event:")
        )
    return frames


def event_stream(count: int) -> bytes:
    frames = trace_events()
    if not frames:
        raise SystemExit(f"no AMI events found in {TRACES}")
    repeats, extra = divmod(count, len(frames))
    return b"".join(frames) * repeats + b"".join(frames[:extra])


def bench_parser(stream: bytes, count: int, read_size: int) -> float:
    parser = AMIParser(expect_banner=False)
    decoded = 0
    started = time.perf_counter()
    for offset in range(0, len(stream), read_size):
        decoded += len(parser.feed(stream[offset : offset + read_size]))
    elapsed = time.perf_counter() - started
    if decoded != count or parser.malformed:
        raise SystemExit(f"the parser decoded {decoded} of {count} events")
    return elapsed


async def bench_client(stream: bytes, count: int) -> float:
    started_at: list[float] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        parser = AMIParser(expect_banner=False)
        while data := await reader.read(65536):
            for action in parser.feed(data):
                answer = Message.response("Success", {"ActionID": action.action_id or ""})
                writer.write(answer.encode())
                if action.name == "Login":
                    started_at.append(time.perf_counter())
                    writer.write(stream)
                elif action.name == "Logoff":
                    writer.close()
                    return

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AMIClient("127.0.0.1", port, "bench", "bench", ping_interval=600.0)
    received = 0
    done = asyncio.Event()

    def count_event(message: Message) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    client.subscribe(count_event)
    try:
        await client.connect()
        async with asyncio.timeout(60):
            await done.wait()
        finished = time.perf_counter()
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    return finished - started_at[0]


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--events", type=int, default=200_000, help="events to decode")
    options.add_argument("--read-size", type=int, default=4096, help="bytes per parser read")
    args = options.parse_args()
    if args.events <= 0 or args.read_size <= 0:
        print("--events and --read-size must be positive", file=sys.stderr)
        return 2
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    stream = event_stream(args.events)
    megabytes = len(stream) / 1e6
    print(f"{args.events} events from {TRACES}: {megabytes:.1f} MB")
    elapsed = bench_parser(stream, args.events, args.read_size)
    print(
        f"AMIParser, {args.read_size} B reads: {args.events / elapsed:>10,.0f} events/s  "
        f"{megabytes / elapsed:6.1f} MB/s  ({elapsed:.2f} s)"
    )
    elapsed = asyncio.run(bench_client(stream, args.events))
    print(
        f"AMIClient over loopback TCP: {args.events / elapsed:>10,.0f} events/s  "
        f"{megabytes / elapsed:6.1f} MB/s  ({elapsed:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
