"""The public PBXSimulator API over a real TCP connection."""

from __future__ import annotations

import asyncio

import pytest

from callrouter.ami import MessageKind
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorNotRunning, SimulatorSettings

from .conftest import AMITestClient, event_named

JEAN = CallerProfile("0612345678", "Jean Dupont", account="100200", pins=("1234",), pass_digit="2")
LOGIN = [("Username", "hotline"), ("Secret", "hotline-secret")]


async def test_a_placed_call_is_routed_by_setvar_and_redirect(
    simulator: PBXSimulator, client: AMITestClient
) -> None:
    assert (await client.action("Login", [("ActionID", "1"), *LOGIN])).name == "Success"
    leg = simulator.place_call(JEAN)
    announce = await client.wait_for(event_named("UserEvent", UserEvent="HotlineCall"))
    assert (announce["Channel"], announce["Pin"], announce["Pass"]) == (leg, "1234", "2")
    await client.action(
        "Setvar", [("ActionID", "2"), ("Channel", leg), ("Variable", "QUEUE_PRIO"), ("Value", "7")]
    )
    await client.action(
        "Redirect",
        [
            ("ActionID", "3"),
            ("Channel", leg),
            ("Context", "queue-experts"),
            ("Exten", "s"),
            ("Priority", "1"),
        ],
    )
    join = await client.wait_for(event_named("QueueCallerJoin", Channel=leg))
    assert join["Queue"] == "experts"
    view = simulator.snapshot()
    assert leg in view["channels"]
    await client.wait_for(event_named("AgentConnect", Channel=leg))
    getvar = await client.action(
        "Getvar", [("ActionID", "4"), ("Channel", leg), ("Variable", "QUEUE_PRIO")]
    )
    assert (getvar["Variable"], getvar["Value"]) == ("QUEUE_PRIO", "7")


async def test_the_failsafe_over_ami_when_the_router_stays_silent(
    settings: SimulatorSettings,
) -> None:
    settings.router_wait = 5.0
    simulator = PBXSimulator(settings)
    await simulator.start()
    client = await AMITestClient.connect(simulator.port)
    try:
        await client.action("Login", [("ActionID", "1"), *LOGIN])
        leg = simulator.place_call(JEAN)
        failsafe = await client.wait_for(event_named("UserEvent", UserEvent="HotlineFailsafe"))
        assert (failsafe["Channel"], failsafe["Caller"]) == (leg, JEAN.caller_id)
        join = await client.wait_for(event_named("QueueCallerJoin", Channel=leg))
        assert join["Queue"] == "coordinators"
    finally:
        await client.close()
        await simulator.stop()


async def test_actions_before_login_are_denied(client: AMITestClient) -> None:
    reply = await client.action("QueueStatus", [("ActionID", "q")])
    assert (reply.name, reply["Message"]) == ("Error", "Permission denied")


async def test_events_off_sends_responses_only(
    simulator: PBXSimulator, client: AMITestClient
) -> None:
    await client.action("Login", [("ActionID", "1"), *LOGIN, ("Events", "off")])
    simulator.place_call(JEAN)
    pong = await client.action("Ping", [("ActionID", "2")])
    assert pong["Ping"] == "Pong"
    events_on = await client.action("Events", [("ActionID", "3"), ("EventMask", "on")])
    await client.wait_for(event_named("UserEvent", UserEvent="HotlineCall"))
    first_event = next(i for i, m in enumerate(client.received) if m.kind is MessageKind.EVENT)
    assert first_event > client.received.index(events_on)


async def test_core_show_channels_lists_live_channels(
    simulator: PBXSimulator, client: AMITestClient
) -> None:
    await client.action("Login", [("ActionID", "1"), *LOGIN, ("Events", "off")])
    leg = simulator.place_call(JEAN)
    start = await client.action("CoreShowChannels", [("ActionID", "c")])
    assert start["EventList"] == "start"
    complete = await client.wait_for(event_named("CoreShowChannelsComplete"))
    items = [m for m in client.received if m.name == "CoreShowChannel"]
    assert complete["ListItems"] == "2"
    assert [k for k, _ in items[0].items()][:3] == ["Event", "ActionID", "Channel"]
    assert leg in {m["Channel"] for m in items}


async def test_stop_closes_the_clients(settings: SimulatorSettings) -> None:
    simulator = PBXSimulator(settings)
    await simulator.start()
    client = await AMITestClient.connect(simulator.port)
    await client.action("Login", [("ActionID", "1"), *LOGIN])
    await simulator.stop()
    await client.wait_closed()
    assert client.closed
    with pytest.raises(SimulatorNotRunning):
        simulator.place_call(JEAN)


async def test_stop_with_clients_connected_reports_no_error(settings: SimulatorSettings) -> None:
    """Stopping closes the sessions: no `Exception in callback ... CancelledError` printed."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        simulator = PBXSimulator(settings)
        await simulator.start()
        clients = [await AMITestClient.connect(simulator.port) for _ in range(2)]
        await clients[0].action("Login", [("ActionID", "1"), *LOGIN])
        await simulator.stop()
        for client in clients:
            await client.wait_closed()
            await client.close()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert reported == []


@pytest.mark.parametrize(
    ("read_classes", "dialplan_events"),
    [(None, True), (frozenset({"call", "agent", "user", "system"}), False)],
)
async def test_the_ami_user_reads_only_its_classes(
    settings: SimulatorSettings, read_classes: frozenset[str] | None, dialplan_events: bool
) -> None:
    """dialplans/manager.conf gives the router `read = call,agent,user,system`: Asterisk
    sends it no VarSet, Newexten or DTMF events, so neither does the simulator."""
    settings.read_classes = read_classes
    simulator = PBXSimulator(settings)
    await simulator.start()
    client = await AMITestClient.connect(simulator.port)
    try:
        await client.action("Login", [("ActionID", "1"), *LOGIN])
        leg = simulator.place_call(JEAN)
        await client.action(
            "Setvar",
            [("ActionID", "2"), ("Channel", leg), ("Variable", "QUEUE_PRIO"), ("Value", "3")],
        )
        await client.wait_for(event_named("UserEvent", UserEvent="HotlineCall"))
    finally:
        await client.close()
        await simulator.stop()
    names = {m.name for m in client.events()}
    assert {"UserEvent", "Newchannel", "FullyBooted"} <= names
    assert bool(names & {"VarSet", "Newexten", "DTMFBegin", "DTMFEnd"}) is dialplan_events
