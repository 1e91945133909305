"""The hub: one computation per push for every console, deltas of what changed only,
snapshots on connect, after a PBX reconnection and for a console that fell behind; the
streams it ends (sign-out, expiry, browser gone, stalled)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from callrouter.clock import FakeClock
from callrouter.console.hub import (
    _BEHIND,
    SIGNED_OUT,
    STALL_SECONDS,
    ConsoleHub,
    Message,
    Subscription,
)
from callrouter.console.panel import LIVE, TICK, Labels, PanelView
from callrouter.http.access import Role, Visibility, visibility

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


class FakeConnection:
    """A console's transport: what the hub wrote, how much it holds unsent."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.unsent = 0
        self.closing = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closing, "written to a closing connection"
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.unsent

    def abort(self) -> None:
        self.aborted = self.closing = True


def connect(
    hub: ConsoleHub, seen: Visibility, session: str, live: bool = True
) -> tuple[Subscription, FakeConnection]:
    subscription = hub.subscribe(seen, session, lambda: live)
    assert subscription is not None
    connection = FakeConnection()
    hub.attach(subscription, connection)
    return subscription, connection


def drain(connection: FakeConnection) -> list[Message]:
    """The events written since the last drain, read back from the HTTP chunks."""
    messages, data = [], bytes(connection.written)
    connection.written.clear()
    while data:
        size, _, rest = data.partition(b"\r\n")
        frame, data = rest[: int(size, 16)], rest[int(size, 16) + 2 :]
        fields = dict(line.split(": ", 1) for line in frame.decode().split("\r\n") if line)
        messages.append(Message(fields["event"], fields["data"]))
    return messages


def panels_of(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(message.data)
    return body["panels"]  # type: ignore[no-any-return]


async def test_a_new_console_starts_with_a_full_snapshot_in_local_time() -> None:
    hub, _, _ = make_hub()
    subscription = hub.subscribe(SUPERVISOR, "s1")
    assert subscription is not None
    connection = FakeConnection()
    hub.changed(LIVE)
    await hub.flush()
    assert drain(connection) == [], "nothing before the connection is attached"
    hub.attach(subscription, connection)
    [first] = drain(connection)
    assert first.kind == "snapshot"
    body = json.loads(first.data)
    assert body["at"] == "2026-11-24T10:00:00+01:00"
    assert set(body["panels"]) == {"live", "slow"}


async def test_many_changes_and_many_consoles_cost_one_computation_per_visibility() -> None:
    hub, live, slow = make_hub()
    supervisors = [connect(hub, SUPERVISOR, f"s{i}")[1] for i in range(100)]
    admin = connect(hub, ADMIN, "a")[1]
    for connection in [*supervisors, admin]:
        drain(connection)
    computed = live.computed
    live.value = 1
    for _ in range(10_000):
        hub.changed(LIVE)
    await hub.flush()
    # Once for the supervisors' masked view, once for the admin's: not per event or console.
    assert live.computed - computed == 2
    # The slow panel's topic was not announced: not recomputed.
    assert slow.computed == 2
    written = {bytes(connection.written) for connection in supervisors}
    assert len(written) == 1, "the same bytes written to every console"
    deltas = [drain(connection)[-1] for connection in supervisors]
    assert all(d.kind == "delta" for d in deltas)
    assert panels_of(deltas[0]) == {"live": {"value": 1, "names": False}}
    assert panels_of(drain(admin)[-1]) == {"live": {"value": 1, "names": True}}


async def test_nothing_is_sent_when_a_recomputed_panel_did_not_change() -> None:
    hub, _, _ = make_hub()
    _, connection = connect(hub, SUPERVISOR, "s")
    drain(connection)
    hub.changed(LIVE)
    await hub.flush()
    assert drain(connection) == []


async def test_a_late_console_gets_what_the_others_have_then_the_same_delta() -> None:
    hub, live, _ = make_hub()
    _, early = connect(hub, SUPERVISOR, "e")
    drain(early)
    live.value = 5
    hub.changed(LIVE)
    _, late = connect(hub, SUPERVISOR, "l")  # between the change and the push
    await hub.flush()
    late_messages = drain(late)
    assert [m.kind for m in late_messages] == ["snapshot", "delta"]
    assert panels_of(late_messages[-1])["live"]["value"] == 5
    assert panels_of(drain(early)[-1])["live"]["value"] == 5


async def test_after_a_pbx_reconnection_every_console_gets_a_fresh_snapshot() -> None:
    hub, live, _ = make_hub()
    _, connection = connect(hub, SUPERVISOR, "s")
    drain(connection)
    live.value = 9
    hub.resync()
    await hub.flush()
    [message] = drain(connection)
    assert message.kind == "snapshot"
    assert panels_of(message)["live"]["value"] == 9


async def push(hub: ConsoleHub, live: CountingPanel, value: int) -> None:
    live.value = value
    hub.changed(LIVE)
    await hub.flush()


async def test_a_console_that_falls_behind_skips_to_a_snapshot() -> None:
    hub, live, _ = make_hub()
    _, connection = connect(hub, SUPERVISOR, "s")
    drain(connection)
    await push(hub, live, 1)
    assert [m.kind for m in drain(connection)] == ["delta"]
    # Its browser does not read: the connection holds more than the limit unsent.
    connection.unsent = _BEHIND + 1
    await push(hub, live, 2)
    connection.unsent = _BEHIND // 2
    for value in range(3, 50):
        await push(hub, live, value)
    assert drain(connection) == [], "nothing more for a console behind"
    # It read its backlog: it gets the present whole, not what it missed.
    connection.unsent = 0
    await push(hub, live, 50)
    [message] = drain(connection)
    assert message.kind == "snapshot"
    assert panels_of(message)["live"]["value"] == 50
    await push(hub, live, 51)
    assert [m.kind for m in drain(connection)] == ["delta"]


async def test_signing_out_ends_that_session_s_streams_only() -> None:
    hub, live, _ = make_hub()
    mine, my_connection = connect(hub, SUPERVISOR, "mine")
    other, other_connection = connect(hub, SUPERVISOR, "other")
    drain(my_connection)
    drain(other_connection)
    hub.end_session("mine")
    assert drain(my_connection) == [SIGNED_OUT]
    assert mine.finished.is_set()
    await push(hub, live, 1)
    assert drain(my_connection) == []
    assert not other.finished.is_set()
    assert [m.kind for m in drain(other_connection)] == ["delta"]


async def test_the_sweep_ends_streams_gone_expired_or_stalled() -> None:
    hub, live, _ = make_hub()
    gone, gone_connection = connect(hub, SUPERVISOR, "gone")
    expired, expired_connection = connect(hub, SUPERVISOR, "expired", live=False)
    stalled, stalled_connection = connect(hub, SUPERVISOR, "stalled")
    kept, kept_connection = connect(hub, SUPERVISOR, "kept")
    for connection in (gone_connection, expired_connection, stalled_connection):
        drain(connection)
    gone_connection.closing = True  # the browser went away
    stalled_connection.unsent = _BEHIND + 1
    await push(hub, live, 1)
    hub.sweep()
    assert gone.finished.is_set() and gone_connection.written == b""
    assert expired.finished.is_set() and drain(expired_connection)[-1] == SIGNED_OUT
    assert not stalled.finished.is_set(), "behind, not yet stalled"
    assert stalled.behind_since is not None
    stalled.behind_since -= STALL_SECONDS
    hub.sweep()
    assert stalled.finished.is_set() and stalled_connection.aborted
    assert not kept.finished.is_set()
    assert [m.kind for m in drain(kept_connection)] == ["snapshot", "delta"]
    # A place whose stream ended before its connection was attached is never written to.
    late = hub.subscribe(SUPERVISOR, "late")
    assert late is not None
    hub.end_session("late")
    late_connection = FakeConnection()
    hub.attach(late, late_connection)
    assert late_connection.written == b""


def test_closing_the_server_ends_every_stream_without_an_event() -> None:
    hub, _, _ = make_hub()
    first, first_connection = connect(hub, SUPERVISOR, "a")
    second, _ = connect(hub, ADMIN, "b")
    drain(first_connection)
    hub.close_all()
    assert first.finished.is_set() and second.finished.is_set()
    assert first_connection.written == b""


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
    _, connection = connect(hub, SUPERVISOR, "s")
    drain(connection)
    task = asyncio.create_task(hub.run())
    try:
        flushes = hub.flushes
        for value in range(50):
            live.value = value
            hub.changed(LIVE)
            await asyncio.sleep(0)
        await until(lambda: bool(connection.written), "the push")
        [message] = drain(connection)
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
    connect(hub, SUPERVISOR, "s")
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
    connections = [connect(hub, SUPERVISOR, f"s{i}")[1] for i in range(100)]
    for connection in connections:
        drain(connection)
    live.value = 1
    hub.changed(LIVE)
    handed: list[int] = []

    async def routing() -> None:
        # Another task of the loop (the router): how many consoles had the delta each
        # time it got to run during the push.
        while not all(connection.written for connection in connections):
            handed.append(sum(bool(connection.written) for connection in connections))
            await asyncio.sleep(0)

    other = asyncio.create_task(routing())
    await hub.flush()
    await other
    assert any(0 < count < len(connections) for count in handed), handed
    timing = hub.timings[-1]
    assert 0 <= timing.longest_cpu_ms <= timing.cpu_ms
    assert timing.longest in {"live", "writes", "end"}


class BrokenPanel(CountingPanel):
    def snapshot(self, view: PanelView) -> dict[str, Any]:
        raise RuntimeError("broken")


async def test_a_broken_panel_does_not_stop_the_others() -> None:
    hub, live, _ = make_hub()
    hub.register(BrokenPanel("broken", frozenset({LIVE})))
    _, connection = connect(hub, SUPERVISOR, "s")
    [snapshot] = drain(connection)
    assert "broken" not in panels_of(snapshot)
    await push(hub, live, 3)
    assert panels_of(drain(connection)[-1]) == {"live": {"value": 3, "names": False}}
