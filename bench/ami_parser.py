"""How fast AMI events are decoded: by the bare parser, then end to end over loopback TCP.

    python bench/ami_parser.py [--events N] [--read-size BYTES]

The events are the real ones of /work/shared/ami-traces (every `Event:` frame of every
transcript, byte for byte), repeated until there are N of them. First they are fed to
AMIParser in reads of --read-size bytes; then a local server sends them down a TCP socket
to an AMIClient that counts them in a subscriber, and, in the same run, to a bare reader
(an asyncio protocol that splits on `\r\n\r\n` and decodes each frame, nothing else):
the floor of any asyncio AMI reader in Python. Target: the client at 0.35 of the bare
reader or better (issue 7; it was 0.18).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import socket
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


def _send_stream(listener: socket.socket, stream: bytes, connections: int) -> None:
    """The PBX side, in its own process so that the readers' loop does only reading.

    For each connection: the banner, then one `Response: Success` per action; after the
    first action (the Login) the whole stream. Ends when every reader has hung up."""
    for _ in range(connections):
        connection, _ = listener.accept()
        with connection:
            connection.sendall(BANNER)
            parser = AMIParser(expect_banner=False)
            streamed = False
            while data := connection.recv(65536):
                for action in parser.feed(data):
                    answer = Message.response("Success", {"ActionID": action.action_id or ""})
                    connection.sendall(answer.encode())
                    if not streamed:
                        connection.sendall(stream)
                        streamed = True


class _BareReader(asyncio.Protocol):
    """Splits on the terminator and decodes each frame: no headers, no dispatch."""

    def __init__(self, count: int, done: asyncio.Future[float]) -> None:
        self._count = count
        self._done = done
        self._rest = b""
        self.frames = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(b"Action: Login\r\nActionID: bare-1\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        frames = (self._rest + data).split(b"\r\n\r\n")
        self._rest = frames.pop()
        for frame in frames:
            frame.decode("utf-8", "replace")
        self.frames += len(frames)
        if self.frames >= self._count and not self._done.done():
            self._done.set_result(time.perf_counter())


async def bench_bare_reader(port: int, count: int) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    started = time.perf_counter()
    # The banner and the Login's answer come as one frame before the events.
    transport, _ = await loop.create_connection(
        lambda: _BareReader(count + 1, done), "127.0.0.1", port
    )
    try:
        async with asyncio.timeout(60):
            finished = await done
    finally:
        transport.close()
    return finished - started


async def bench_client(port: int, count: int) -> float:
    client = AMIClient("127.0.0.1", port, "bench", "bench", ping_interval=600.0)
    received = 0
    done = asyncio.Event()

    def count_event(message: Message) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    client.subscribe(count_event)
    started = time.perf_counter()
    try:
        await client.connect()
        async with asyncio.timeout(60):
            await done.wait()
        finished = time.perf_counter()
    finally:
        await client.close()
    return finished - started


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--events", type=int, default=200_000, help="events to decode")
    options.add_argument("--read-size", type=int, default=4096, help="bytes per parser read")
    options.add_argument("--rounds", type=int, default=3, help="TCP runs of each reader")
    args = options.parse_args()
    if args.events <= 0 or args.read_size <= 0 or args.rounds <= 0:
        print("--events, --read-size and --rounds must be positive", file=sys.stderr)
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
    # The two readers take turns, --rounds times each; the best of each is kept, since
    # other work on the machine only ever slows a round down.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    sender = multiprocessing.get_context("fork").Process(
        target=_send_stream, args=(listener, stream, 2 * args.rounds), daemon=True
    )
    sender.start()
    bare, client = [], []
    for _ in range(args.rounds):
        bare.append(asyncio.run(bench_bare_reader(port, args.events)))
        client.append(asyncio.run(bench_client(port, args.events)))
    sender.join(10)
    listener.close()
    for name, elapsed in (
        ("bare split + decode reader over loopback TCP", min(bare)),
        ("AMIClient over loopback TCP", min(client)),
    ):
        print(
            f"{name}: {args.events / elapsed:>10,.0f} events/s  "
            f"{megabytes / elapsed:6.1f} MB/s  (best of {args.rounds}: {elapsed:.2f} s)"
        )
    print(f"AMIClient / bare reader: {min(bare) / min(client):.2f} (target 0.35 or better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
