"""The simulator frees what it is done with by reference counting alone: a busy spell of
traffic over real TCP leaves no cyclic garbage. This is what lets its serving process run
without the cyclic collector (callrouter.heap), whose full passes over thousands of live
calls held its loop for tens of milliseconds and bunched its events into bursts."""

from __future__ import annotations

import asyncio
import collections
import gc
from collections.abc import Iterator

import pytest

from callrouter.ami import Message, MessageKind
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings

from .conftest import AMITestClient

LOGIN = [("Username", "hotline"), ("Secret", "hotline-secret")]
CUSTOMERS = [CallerProfile(f"06{index:08d}", f"Client {index}") for index in range(200)]


@pytest.fixture
def garbage_kept() -> Iterator[list[object]]:
    """Cyclic garbage found by a collection is kept for the test instead of freed."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def route_for(client: AMITestClient, seconds: float) -> int:
    """Answers every HotlineCall as a router would, for `seconds` of real time: one caller
    in three hears a message, the others are queued. Returns the calls routed."""
    routed, loop = 0, asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await client.wait_for(lambda _: True)
        for message in client.received:
            if message.kind is not MessageKind.EVENT or message.get("UserEvent") != "HotlineCall":
                continue
            channel = message["Channel"]
            context = "hotline-message" if routed % 3 == 0 else "hotline-queue"
            exten = "refusal" if routed % 3 == 0 else "coordinators"
            await client.send(
                Message.action(
                    "Setvar", [("Channel", channel), ("Variable", "QUEUE_PRIO"), ("Value", "0")]
                )
            )
            await client.send(
                Message.action(
                    "Redirect",
                    [
                        ("Channel", channel),
                        ("Context", context),
                        ("Exten", exten),
                        ("Priority", "1"),
                    ],
                )
            )
            routed += 1
        # The client's own record of the traffic is not what is under test.
        client.received.clear()
    return routed


async def test_a_busy_spell_of_traffic_leaves_no_cyclic_garbage(
    garbage_kept: list[object],
) -> None:
    settings = SimulatorSettings(
        port=0,
        username="hotline",
        secret="hotline-secret",
        # 100 model seconds a real second: IVR, queues, talks and hang-ups all happen.
        time_scale=0.01,
        router_wait=5.0,
        answer_delay=(1.0, 3.0),
        talk_time=(5.0, 20.0),
        patience=(5.0, 15.0),
        seed=11,
    )
    simulator = PBXSimulator(settings)
    await simulator.start()
    client = await AMITestClient.connect(simulator.port)
    try:
        await client.action("Login", [("ActionID", "login"), *LOGIN])
        simulator.start_traffic(2.0, CUSTOMERS)
        # Warm-up: whatever is created once (caches, first-time imports) is not traffic.
        await route_for(client, 0.3)
        gc.collect()
        garbage_kept.clear()
        routed = await route_for(client, 0.6)
        simulator.stop_traffic()
        placed = simulator.model.calls_placed
        gc.collect()
        kept = collections.Counter(type(thing).__qualname__ for thing in garbage_kept)
    finally:
        await client.close()
        await simulator.stop()
    assert routed > 50
    assert placed > 100
    assert kept == {}
