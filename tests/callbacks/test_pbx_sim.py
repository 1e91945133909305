"""The AMI placer over real TCP against the PBX simulator, through a proxy that counts the
Originates the PBX received and can cut the link.

The lab's people (ami-traces/configs): `Local/agentN@agents` answer after 2 s,
`Local/noanswer@agents` never does; customers 0699xxxxxx never answer, 0698xxxxxx are busy,
other numbers answer after 2 s. The simulator runs 100 times faster than that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from callrouter.ami import AMIClient
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.placing import AttemptRequest, AttemptResult, PlacementFailed
from callrouter.callbacks.rules import Outcome
from callrouter.pbxsim import PBXSimulator, SimulatorSettings

LIMIT = 10.0
SECRET = "hotline-secret"


class Proxy:
    """Between the placer and the PBX: counts the Originates that reach the PBX and, on
    `cut()`, drops every connection (the PBX keeps its calls, as Asterisk does)."""

    def __init__(self, pbx_port: int) -> None:
        self._pbx_port = pbx_port
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.originates = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        self.port: int = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        for client, pbx in self._links:
            client.transport.abort()
            pbx.transport.abort()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pbx_reader, pbx_writer = await asyncio.open_connection("127.0.0.1", self._pbx_port)
        link = (writer, pbx_writer)
        self._links.add(link)
        pumps = {
            asyncio.create_task(self._pump(reader, pbx_writer, count=True)),
            asyncio.create_task(self._pump(pbx_reader, writer, count=False)),
        }
        self._tasks |= pumps
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._tasks -= pumps
            self._links.discard(link)
            for side in link:
                side.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool
    ) -> None:
        while data := await reader.read(65536):
            if count:
                self.originates += data.count(b"Action: Originate\r\n")
            writer.write(data)
            await writer.drain()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


class Results:
    def __init__(self) -> None:
        self.seen: list[AttemptResult] = []
        self._changed = asyncio.Event()

    async def __call__(self, result: AttemptResult) -> None:
        self.seen.append(result)
        self._changed.set()

    async def first(self, attempt_id: int) -> AttemptResult:
        async with asyncio.timeout(LIMIT):
            while True:
                mine = [r for r in self.seen if r.attempt_id == attempt_id]
                if mine:
                    return mine[0]
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def simulator() -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="hotline",
            secret=SECRET,
            time_scale=0.01,
            answer_delay=(2.0, 2.0),
            # Long enough that the calls are still up when the tests look for them.
            talk_time=(600.0, 600.0),
            login_failure_delay=0.01,
            seed=7,
        )
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def proxy(simulator: PBXSimulator) -> AsyncIterator[Proxy]:
    proxy = Proxy(simulator.port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@asynccontextmanager
async def placer_on(port: int, results: Results) -> AsyncIterator[tuple[AMIClient, AMIPlacer]]:
    client = AMIClient(
        "127.0.0.1", port, "hotline", SECRET, reconnect_min_delay=0.01, reconnect_max_delay=0.05
    )
    await client.connect()
    placer = AMIPlacer(client, results)
    try:
        yield client, placer
    finally:
        await placer.close()
        await client.close()


def request(
    attempt_id: int, expert: str = "agent1", customer: str = "0612345678"
) -> AttemptRequest:
    return AttemptRequest(
        attempt_id=attempt_id,
        callback_id=100 + attempt_id,
        expert_interface=f"Local/{expert}@agents",
        customer_number=customer,
        expert_ring_timeout=timedelta(seconds=20),
        customer_ring_timeout=timedelta(seconds=20),
        announcement="callback",
    )


async def until(check: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(LIMIT):
        while not check():
            await asyncio.sleep(0.005)
    assert check(), what


def bridged(simulator: PBXSimulator) -> Callable[[], bool]:
    """The expert's and the customer's channels share a bridge on the PBX."""

    def check() -> bool:
        channels = simulator.model.channels.values()
        return sum(1 for c in channels if c.bridge_id) >= 2

    return check


async def test_a_callback_dialled_is_connected_when_both_legs_are_bridged(
    simulator: PBXSimulator, proxy: Proxy
) -> None:
    results = Results()
    async with placer_on(proxy.port, results) as (_, placer):
        await placer.place(request(1))
        result = await results.first(1)
        await asyncio.sleep(0.05)  # nothing else comes for it (the call is still up)
    assert result.outcome is Outcome.CONNECTED
    assert result.expert_answered_at is not None and result.customer_answered_at is not None
    assert result.connected_at is not None and result.ended_at is None
    assert result.expert_answered_at <= result.customer_answered_at <= result.connected_at
    assert [r.attempt_id for r in results.seen] == [1]
    assert proxy.originates == 1
    assert bridged(simulator)()


@pytest.mark.parametrize(
    ("expert", "customer", "outcome"),
    [
        ("agent2", "0699000001", Outcome.CUSTOMER_NO_ANSWER),
        ("agent2", "0698000001", Outcome.CUSTOMER_BUSY),
        ("noanswer", "0612345678", Outcome.EXPERT_NO_ANSWER),
        ("busy", "0612345678", Outcome.EXPERT_BUSY),
        ("nobody-here", "0612345678", Outcome.FAILED),
    ],
)
async def test_each_leg_failing_is_told_once_when_the_experts_leg_ends(
    proxy: Proxy, expert: str, customer: str, outcome: Outcome
) -> None:
    results = Results()
    async with placer_on(proxy.port, results) as (_, placer):
        await placer.place(request(2, expert, customer))
        result = await results.first(2)
    assert result.outcome is outcome
    assert result.connected_at is None and result.ended_at is not None
    assert len(results.seen) == 1


async def test_nothing_is_sent_while_the_link_is_down(proxy: Proxy) -> None:
    results = Results()
    async with placer_on(proxy.port, results) as (client, placer):
        await proxy.stop()
        await until(lambda: not client.connected, "the link down")
        with pytest.raises(PlacementFailed):
            await placer.place(request(3))
    assert proxy.originates == 0


async def _mid_attempt(simulator: PBXSimulator) -> None:
    """The expert has answered and the customer's phone rings or talks."""

    def customer_dialled() -> bool:
        return any("@customers" in name for name in simulator.model.channels)

    await until(customer_dialled, "the customer's leg")


async def test_a_link_dropped_mid_attempt_is_reconciled_and_not_dialled_again(
    simulator: PBXSimulator, proxy: Proxy
) -> None:
    results = Results()
    async with placer_on(proxy.port, results) as (client, placer):
        await placer.place(request(4))
        await _mid_attempt(simulator)
        proxy.cut()
        await until(lambda: not client.connected, "the link cut")
        await until(lambda: client.connected, "the link back")
        assert await placer.reconcile([4, 99]) == {4: True, 99: False}
        result = await results.first(4)
        await until(bridged(simulator), "still bridged on the PBX")
    assert result.outcome is Outcome.CONNECTED and result.connected_at is not None
    assert [r.attempt_id for r in results.seen] == [4]
    assert proxy.originates == 1


async def test_a_placer_recreated_mid_attempt_finds_the_call_and_does_not_dial_again(
    simulator: PBXSimulator, proxy: Proxy
) -> None:
    port = proxy.port
    before = Results()
    async with placer_on(port, before) as (_, placer):
        await placer.place(request(5))
        await _mid_attempt(simulator)
    # A new process: it knows only the attempt ids its tables hold.
    after = Results()
    async with placer_on(port, after) as (_, placer):
        assert await placer.reconcile([5, 6]) == {5: True, 6: False}
        result = await after.first(5)
    assert result.outcome is Outcome.CONNECTED and result.connected_at is not None
    assert proxy.originates == 1
    assert [r.attempt_id for r in after.seen] == [5]


async def test_an_attempt_gone_from_the_pbx_is_reconciled_as_not_up(proxy: Proxy) -> None:
    results = Results()
    async with placer_on(proxy.port, results) as (_, placer):
        await placer.place(request(7, "agent1", "0698000001"))
        await results.first(7)
        assert await placer.reconcile([7]) == {7: False}
    assert proxy.originates == 1
