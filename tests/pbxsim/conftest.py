"""A real AMI client over TCP, a running simulator, and the traces cut into shapes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import pytest

from callrouter.ami import AMIParser, Message, MessageKind
from callrouter.pbxsim import PBXSimulator, SimulatorSettings

#: Safety net only: every wait below ends on a message the simulator sends after scaled time.
WAIT_LIMIT = 10.0

Predicate = Callable[[Message], bool]


class AMITestClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.parser = AMIParser(expect_banner=True)
        self.received: list[Message] = []
        self.closed = False
        self._seen = 0

    @classmethod
    async def connect(cls, port: int) -> AMITestClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, action: Message) -> None:
        self._writer.write(action.encode())
        await self._writer.drain()

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> Message:
        """Send an action and return its response (matched by ActionID)."""
        message = Message.action(name, list(headers))
        await self.send(message)
        action_id = message.action_id
        return await self.wait_for(
            lambda m: m.kind is MessageKind.RESPONSE and m.action_id == action_id
        )

    async def _read_more(self) -> None:
        data = await asyncio.wait_for(self._reader.read(65536), WAIT_LIMIT)
        if not data:
            self.closed = True
            raise ConnectionError("the simulator closed the connection")
        self.received.extend(self.parser.feed(data))

    async def wait_for(self, predicate: Predicate, *, since: int = 0) -> Message:
        index = since
        while True:
            while index < len(self.received):
                if predicate(self.received[index]):
                    return self.received[index]
                index += 1
            await self._read_more()

    async def wait_closed(self) -> None:
        while not self.closed:
            try:
                await self._read_more()
            except ConnectionError:
                return

    def events(self) -> list[Message]:
        return [m for m in self.received if m.kind is MessageKind.EVENT]

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


def event_named(name: str, **headers: str) -> Predicate:
    def match(message: Message) -> bool:
        if message.kind is not MessageKind.EVENT or message.name != name:
            return False
        return all(message.get(k) == v for k, v in headers.items())

    return match


def trace_messages(path: Path) -> list[Message]:
    return AMIParser(expect_banner=True).feed(path.read_bytes())


def trace_actions(path: Path) -> list[Message]:
    return AMIParser(expect_banner=False).feed(path.read_bytes())


@pytest.fixture
def settings() -> SimulatorSettings:
    """Lab timings (agents answer after 2 s) at 1/100 of real time; the router is given
    plenty of time so that only the fail-safe test meets the fail-safe."""
    return SimulatorSettings(
        port=0,
        username="hotline",
        secret="hotline-secret",
        time_scale=0.01,
        router_wait=1000.0,
        answer_delay=(2.0, 2.0),
        login_failure_delay=0.01,
        seed=7,
    )


@pytest.fixture
async def simulator(settings: SimulatorSettings) -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(settings)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def client(simulator: PBXSimulator) -> AsyncIterator[AMITestClient]:
    connection = await AMITestClient.connect(simulator.port)
    try:
        yield connection
    finally:
        await connection.close()
