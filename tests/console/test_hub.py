"""The hub: one computation per push for every console, deltas of what changed only,
snapshots on connect, after a PBX reconnection and for a console that fell behind."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from callrouter.clock import FakeClock
from callrouter.console.hub import SIGNED_OUT, ConsoleHub, Message, Subscription
from callrouter.console.panel import LIVE, TICK, Labels, PanelView
from callrouter.http.access import Role, visibility

from ..support.waits import until

SUPERVISOR, ADMIN = visibility(Role.SUPERVISOR), visibility(Role.ADMIN)


class CountingPanel:
    labels: ClassVar[Labels] = {}

    def __init__(self, key: str, topics: frozenset[str]) -> None:
        self.key = key
        self.topics = topics
        self.value = 0
        self.computed = 0

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        self.computed += 1
        return {"value": self.value, "names": view.seen.caller_names}


def make_hub(max_consoles: int = 1000) -> tuple[ConsoleHub, CountingPanel, CountingPanel]:
    hub = ConsoleHub(
        FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ZoneInfo("Europe/Paris"),
        push_interval=0.05,
        max_consoles=max_consoles,
    )
    live, slow = CountingPanel("live", frozenset({LIVE})), CountingPanel("slow", frozenset({TICK}))
    hub.register(live)
    hub.register(slow)
    return hub, live, slow


def drain(subscription: Subscription) -> list[Message]:
    messages = []
    while not subscription.messages.empty():
        messages.append(subscription.messages.get_nowait())
    return messages


def panels_of(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(message.data)
    return body["panels"]  # type: ignore[no-any-return]


def test_a_new_console_starts_with_a_full_snapshot_in_local_time() -> None:
    hub, _, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s1")
    assert subscription is not None
    [first] = drain(subscription)
    assert first.kind == "snapshot"
    body = json.loads(first.data)
    assert body["at"] == "2026-11-24T10:00:00+01:00"
    assert set(body["panels"]) == {"live", "slow"}


async def test_many_changes_and_many_consoles_cost_one_computation_per_visibility() -> None:
    hub, live, slow = make_hub()
    supervisors = [hub.subscribe(SUPERVISOR, f"s{i}") for i in range(100)]
    admin = hub.subscribe(ADMIN, "a")
    assert admin is not None and all(s is not None for s in supervisors)
    computed = live.computed
    live.value = 1
    for _ in range(10_000):
        hub.changed(LIVE)
    await hub.flush()
    # Once for the supervisors' masked view, once for the admin's: not per event or console.
    assert live.computed - computed == 2
    # The slow panel's topic was not announced: not recomputed.
    assert slow.computed == 2
    deltas = [drain(s)[-1] for s in supervisors if s is not None]
    assert all(d.kind == "delta" for d in deltas)
    assert len({id(d) for d in deltas}) == 1, "one message text shared by every console"
    assert panels_of(deltas[0]) == {"live": {"value": 1, "names": False}}
    assert panels_of(drain(admin)[-1]) == {"live": {"value": 1, "names": True}}


async def test_nothing_is_sent_when_a_recomputed_panel_did_not_change() -> None:
    hub, _, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s")
    assert subscription is not None
    drain(subscription)
    hub.changed(LIVE)
    await hub.flush()
    assert drain(subscription) == []


async def test_a_late_console_gets_what_the_others_have_then_the_same_delta() -> None:
    hub, live, _ = make_hub()
    early = hub.subscribe(SUPERVISOR, "e")
    assert early is not None
    drain(early)
    live.value = 5
    hub.changed(LIVE)
    late = hub.subscribe(SUPERVISOR, "l")  # between the change and the push
    assert late is not None
    await hub.flush()
    late_messages = drain(late)
    assert [m.kind for m in late_messages] == ["snapshot", "delta"]
    assert panels_of(late_messages[-1])["live"]["value"] == 5
    assert panels_of(drain(early)[-1])["live"]["value"] == 5


async def test_after_a_pbx_reconnection_every_console_gets_a_fresh_snapshot() -> None:
    hub, live, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s")
    assert subscription is not None
    drain(subscription)
    live.value = 9
    hub.resync()
    await hub.flush()
    [message] = drain(subscription)
    assert message.kind == "snapshot"
    assert panels_of(message)["live"]["value"] == 9


async def test_a_console_that_falls_behind_skips_to_a_snapshot() -> None:
    hub, live, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s")
    assert subscription is not None
    for value in range(1, 100):
        live.value = value
        hub.changed(LIVE)
        await hub.flush()
    messages = drain(subscription)
    assert len(messages) <= 32
    snapshots = [m for m in messages if m.kind == "snapshot"]
    assert snapshots, "the backlog was replaced by a snapshot"
    last_value = panels_of(messages[-1])["live"]["value"]
    assert last_value == 99


async def test_signing_out_ends_that_session_s_streams_only() -> None:
    hub, _, _ = make_hub()
    mine = hub.subscribe(SUPERVISOR, "mine")
    other = hub.subscribe(SUPERVISOR, "other")
    assert mine is not None and other is not None
    drain(other)
    hub.end_session("mine")
    assert drain(mine) == [SIGNED_OUT]
    hub.changed(LIVE)
    await hub.flush()
    assert drain(mine) == []
    assert other.ended is False


def test_consoles_beyond_the_limit_are_refused() -> None:
    hub, _, _ = make_hub(max_consoles=2)
    first = hub.subscribe(SUPERVISOR, "a")
    assert first is not None and hub.subscribe(SUPERVISOR, "b") is not None
    assert hub.subscribe(SUPERVISOR, "c") is None
    hub.unsubscribe(first)
    assert hub.subscribe(SUPERVISOR, "c") is not None


def test_two_panels_cannot_share_a_key() -> None:
    hub, _, _ = make_hub()
    with pytest.raises(ValueError, match="already named"):
        hub.register(CountingPanel("live", frozenset()))


async def test_the_running_hub_gathers_a_burst_into_one_push() -> None:
    hub, live, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s")
    assert subscription is not None
    drain(subscription)
    task = asyncio.create_task(hub.run())
    try:
        flushes = hub.flushes
        for value in range(50):
            live.value = value
            hub.changed(LIVE)
            await asyncio.sleep(0)
        message = await asyncio.wait_for(subscription.messages.get(), timeout=2)
        assert panels_of(message)["live"]["value"] == 49
        assert hub.flushes - flushes == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_time_driven_panels_move_under_steady_traffic() -> None:
    hub = ConsoleHub(
        FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ZoneInfo("Europe/Paris"),
        push_interval=0.01,
        max_consoles=10,
        tick_seconds=0.2,
    )
    slow = CountingPanel("slow", frozenset({TICK}))
    hub.register(slow)
    assert hub.subscribe(SUPERVISOR, "s") is not None
    computed = slow.computed

    async def traffic() -> None:
        # Changes keep coming faster than the tick: the hub never waits a whole tick.
        while True:
            hub.changed(LIVE)
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(traffic()), asyncio.create_task(hub.run())]
    try:
        await until(lambda: slow.computed > computed, "the tick panel recomputed")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_push_to_many_consoles_lets_other_work_run_in_between() -> None:
    hub, live, _ = make_hub()
    consoles = [hub.subscribe(SUPERVISOR, f"s{i}") for i in range(100)]
    queues = [c.messages for c in consoles if c is not None]
    for messages in queues:
        messages.get_nowait()
    live.value = 1
    hub.changed(LIVE)
    handed: list[int] = []

    async def routing() -> None:
        # Another task of the loop (the router): how many consoles had the delta each
        # time it got to run during the push.
        while not all(not messages.empty() for messages in queues):
            handed.append(sum(not messages.empty() for messages in queues))
            await asyncio.sleep(0)

    other = asyncio.create_task(routing())
    await hub.flush()
    await other
    assert any(0 < count < len(queues) for count in handed), handed
    timing = hub.timings[-1]
    assert 0 <= timing.longest_cpu_ms <= timing.cpu_ms


class BrokenPanel(CountingPanel):
    def snapshot(self, view: PanelView) -> dict[str, Any]:
        raise RuntimeError("broken")


async def test_a_broken_panel_does_not_stop_the_others() -> None:
    hub, live, _ = make_hub()
    hub.register(BrokenPanel("broken", frozenset({LIVE})))
    subscription = hub.subscribe(SUPERVISOR, "s")
    assert subscription is not None
    [snapshot] = drain(subscription)
    assert "broken" not in panels_of(snapshot)
    live.value = 3
    hub.changed(LIVE)
    await hub.flush()
    assert panels_of(drain(subscription)[-1]) == {"live": {"value": 3, "names": False}}
