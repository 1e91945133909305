"""Over real TCP with the simulator, on its own accelerated clock (1/20 of real time, so
that a loaded machine keeps its timers within a model second): the escalation chain runs
in the PBX (issue 10, items 2 and 5). callrouter sets the members and is gone before the
emergency arrives; the test plays the router's Redirect only. The primary never answers,
the secondary is a voicemail, the manager presses 1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest

from callrouter.ami.client import AMIClient
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.oncall.programming import MemberProgrammer
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician
from callrouter.pbxsim import CallerProfile, PBXSimulator, SimulatorSettings

NIGHT = datetime(2025, 3, 4, 21, 0, tzinfo=UTC)
PRIMARY, SECONDARY, MANAGER = (f"Local/070000000{n}@oncall-technician" for n in (1, 2, 3))
CALLER = "0611000001"


def roster(*layers: tuple[Layer, str]) -> Roster:
    return Roster(
        HotlineCalendar.default().on_call,
        {f"T{n}": Technician(f"T{n}", f"070000000{n}") for n in (1, 2, 3)},
        {layer: Rotation((name,), 7, time(8), date(2025, 3, 3)) for layer, name in layers},
    )


TEAM = roster((Layer.PRIMARY, "T1"), (Layer.SECONDARY, "T2"), (Layer.MANAGER, "T3"))


@pytest.fixture
async def simulator() -> AsyncIterator[PBXSimulator]:
    sim = PBXSimulator(
        SimulatorSettings(
            port=0,
            username="hotline",
            secret="hotline-secret",
            time_scale=0.05,
            router_wait=10_000.0,
            answer_delay=(2.0, 2.0),
            patience=(10_000.0, 10_000.0),
            seed=11,
            queues={"coordinators": [], "experts": [], "oncall": []},
            technicians={"0700000001": "never", "0700000002": "voicemail"},
        )
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def connect(simulator: PBXSimulator) -> AMIClient:
    client = AMIClient("127.0.0.1", simulator.port, "hotline", "hotline-secret")
    await client.connect()
    return client


async def set_members_then_stop(simulator: PBXSimulator, team: Roster) -> None:
    callrouter = await connect(simulator)

    async def read() -> Roster:
        return team

    try:
        await MemberProgrammer(
            callrouter, read, FakeClock(NIGHT), queue="oncall", recheck=60
        ).program()
    finally:
        await callrouter.close()


async def emergency(simulator: PBXSimulator, until: str) -> list[tuple[float, Message]]:
    """Places an emergency, Redirects it to the on-call queue as the router would, and
    returns the events (with the simulator's own clock) until UserEvent `until`."""
    eyes = await connect(simulator)
    seen: list[tuple[float, Message]] = []
    done = asyncio.Event()

    def watch(event: Message) -> None:
        seen.append((simulator.model.now(), event))
        if event.name == "AgentConnect" or event.get("UserEvent") == until:
            done.set()

    eyes.subscribe(watch)
    try:
        channel = simulator.place_call(CallerProfile(CALLER, "Anne", pass_digit="3"))
        async with asyncio.timeout(10):
            while not any(e.get("UserEvent") == "HotlineCall" for _, e in seen):
                await asyncio.sleep(0.005)
        await eyes.send_action(
            "Setvar", (("Channel", channel), ("Variable", "HOTLINE_HOLD"), ("Value", "7"))
        )
        await eyes.send_action(
            "Redirect",
            (("Channel", channel), ("Context", "queue-oncall"), ("Exten", "s"), ("Priority", "1")),
        )
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await eyes.close()
    # from when the caller reaches [oncall-queue] (queued, or told nobody is on call)
    queued = next(at for at, e in seen if e.get("UserEvent") == "HotlineQueued")
    return [(at - queued, e) for at, e in seen]


def first(seen: list[tuple[float, Message]], name: str, **headers: str) -> float:
    for at, event in seen:
        if (event.name == name or event.get("UserEvent") == name) and all(
            event.get(k) == v for k, v in headers.items()
        ):
            return at
    raise AssertionError(f"no {name} {headers}")


async def test_unanswered_primary_then_a_voicemail_escalate_to_the_manager_without_callrouter(
    simulator: PBXSimulator,
) -> None:
    await set_members_then_stop(simulator, TEAM)

    seen = await emergency(simulator, "OnCallConfirmed")

    assert first(seen, "AgentCalled", Interface=PRIMARY) < 1
    secondary = first(seen, "AgentCalled", Interface=SECONDARY)
    assert 30 < secondary < 30 + 17 + 1  # the first ring round after 30 s
    # the voicemail answers, presses nothing: declined, and the chain goes on
    assert first(seen, "OnCallDeclined", Technician=SECONDARY) > secondary
    manager = first(seen, "AgentCalled", Interface=MANAGER)
    assert 60 < manager < 60 + 17 + 1
    confirmed = first(seen, "OnCallConfirmed", Technician=MANAGER)
    (event,) = [e for _, e in seen if e.get("UserEvent") == "OnCallConfirmed"]
    assert event.get("Hold") == "7"
    assert first(seen, "AgentConnect", Interface=MANAGER) >= confirmed > manager


async def test_an_empty_rota_offers_the_message_at_once(simulator: PBXSimulator) -> None:
    seen = await emergency(simulator, "OnCallUnanswered")

    assert first(seen, "OnCallUnanswered", Status="JOINEMPTY") < 1
    assert not [e for _, e in seen if e.name == "QueueCallerJoin"]


async def test_without_anyone_confirming_every_pass_runs_then_the_message(
    simulator: PBXSimulator,
) -> None:
    await set_members_then_stop(simulator, roster((Layer.PRIMARY, "T1"), (Layer.SECONDARY, "T2")))

    seen = await emergency(simulator, "OnCallUnanswered")

    passes = [e.get("Pass") for _, e in seen if e.get("UserEvent") == "OnCallPass"]
    assert passes == ["1", "2"]
    assert first(seen, "OnCallUnanswered", Status="TIMEOUT") >= 90 + 90 - 1
