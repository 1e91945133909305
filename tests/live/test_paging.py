"""Long queues (issue 7, item 13): service order kept by rank, views read page by page."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrouter.clock import FakeClock
from callrouter.http.access import Principal, Role
from callrouter.http.endpoint import IDENTIFIER
from callrouter.http.errors import error_middleware
from callrouter.http.ops import OpsContext, setup_ops_routes
from callrouter.live.state import LiveState

from .conftest import (
    caller_join,
    caller_leave,
    configure,
    hangup,
    hotline_queued,
    newchannel,
    queue_entry,
    queue_params,
)


def channel_of(n: int) -> tuple[str, str, tuple[str, str]]:
    return (f"Local/06{n:08d}@hotline-{n:08x};2", f"1.{n}", (f"06{n:08d}", f"Caller {n}"))


def join(live: LiveState, n: int, priority: int | None, position: int) -> None:
    channel, uniqueid, caller = channel_of(n)
    live.apply(newchannel(channel, uniqueid, caller))
    if priority is not None:
        live.apply(hotline_queued(channel, uniqueid, priority, "coordinators"))
    live.apply(caller_join("coordinators", channel, uniqueid, caller, position))


def order(live: LiveState) -> list[tuple[str, int]]:
    view = live.queue("coordinators", limit=100_000)
    assert view is not None
    assert [caller.position for caller in view.callers] == list(range(1, view.waiting + 1))
    return [(caller.uniqueid, caller.position) for caller in view.callers]


def coordinators(clock: FakeClock) -> LiveState:
    live = LiveState(clock)
    configure(live, {"coordinators": []})
    return live


def test_callers_are_served_by_priority_then_arrival_like_app_queue(clock: FakeClock) -> None:
    rng = random.Random(3)
    live = coordinators(clock)
    model: list[tuple[str, int]] = []  # (uniqueid, priority) in app_queue's order
    for n in range(600):
        if model and rng.random() < 0.3:
            uniqueid, _ = model.pop(rng.randrange(len(model)))
            live.apply(caller_leave("coordinators", "x", uniqueid))
            continue
        priority = rng.choice([0, 0, 0, 5, 10])
        # app_queue inserts before the first caller of a lower priority.
        at = next((i for i, (_, p) in enumerate(model) if p < priority), len(model))
        model.insert(at, (f"1.{n}", priority))
        join(live, n, priority, at + 1)
    assert order(live) == [(uniqueid, i) for i, (uniqueid, _) in enumerate(model, start=1)]


def test_a_caller_of_unknown_priority_takes_the_place_the_pbx_reported(clock: FakeClock) -> None:
    live = coordinators(clock)
    join(live, 1, 10, 1)
    join(live, 2, 0, 2)
    join(live, 3, None, 2)  # behind the priority-10 caller, ahead of the other
    join(live, 4, None, 1)
    assert [uniqueid for uniqueid, _ in order(live)] == ["1.4", "1.1", "1.3", "1.2"]


def test_a_rebuild_keeps_the_pbx_order_even_after_a_priority_change(clock: FakeClock) -> None:
    # QueueChangePriorityCaller without Immediate: the new priority, the old place.
    live = LiveState(clock)
    entries = [
        queue_entry("coordinators", 1, *channel_of(1)[:2], channel_of(1)[2], "r", priority=0),
        queue_entry("coordinators", 2, *channel_of(2)[:2], channel_of(2)[2], "r", priority=20),
    ]
    channels = [newchannel(*channel_of(n)) for n in (1, 2)]
    live.rebuild([queue_params("coordinators", "r"), *entries], [])
    for message in channels:
        live.apply(message)
    assert [uniqueid for uniqueid, _ in order(live)] == ["1.1", "1.2"]
    join(live, 3, 10, 1)
    assert [uniqueid for uniqueid, _ in order(live)] == ["1.3", "1.1", "1.2"]


def test_a_long_queue_is_read_page_by_page(clock: FakeClock) -> None:
    live = coordinators(clock)
    for n in range(120):
        join(live, n, 10 if n % 7 == 0 else 0, 1 if n % 7 == 0 else n + 1)
    everyone = order(live)
    first = live.queue("coordinators", limit=50)
    assert first is not None and first.waiting == 120 and len(first.callers) == 50
    assert first.next_after is not None
    # The caller the cursor names leaves: the next page still starts right after its place.
    last = first.callers[-1]
    live.apply(caller_leave("coordinators", last.channel, last.uniqueid))
    second = live.queue("coordinators", after=first.next_after, limit=50)
    assert second is not None
    assert second.callers[0].position == 50
    assert [c.uniqueid for c in second.callers] == [u for u, _ in everyone[50:100]]
    third = live.queue("coordinators", after=second.next_after, limit=50)
    assert third is not None and third.next_after is None
    assert [c.uniqueid for c in third.callers] == [u for u, _ in everyone[100:]]
    with pytest.raises(ValueError):
        live.queue("coordinators", after="not-a-cursor")


def test_the_longest_wait_is_known_without_reading_every_caller(clock: FakeClock) -> None:
    live = coordinators(clock)
    join(live, 1, 0, 1)
    clock.set(clock.now().replace(second=20))
    join(live, 2, 10, 1)
    view = live.queue("coordinators", limit=1)
    assert view is not None and [c.uniqueid for c in view.callers] == ["1.2"]
    assert view.to_dict(clock.now())["longest_wait_seconds"] == 20


def test_live_calls_are_read_page_by_page(clock: FakeClock) -> None:
    live = LiveState(clock)
    for n in range(5):
        live.apply(newchannel(*channel_of(n)))
    page = live.calls(limit=2)
    assert [call.uniqueid for call in page.calls] == ["1.0", "1.1"]
    assert (page.total, page.next_after) == (5, "2")
    live.apply(hangup(*channel_of(1)[:2]))
    page = live.calls(after=page.next_after, limit=2)
    assert [call.uniqueid for call in page.calls] == ["1.2", "1.3"]
    page = live.calls(after=page.next_after, limit=2)
    assert ([call.uniqueid for call in page.calls], page.next_after) == (["1.4"], None)


# -- over HTTP ---------------------------------------------------------------------------------


class Supervisor:
    """Every request is signed by a supervisor (who sees full numbers and names)."""

    async def identify(self, request: web.Request) -> Principal:
        return Principal(Role.SUPERVISOR, "Sam Superviseur")


@pytest.fixture
async def http(clock: FakeClock) -> AsyncIterator[tuple[TestClient[Any, Any], LiveState]]:
    live = coordinators(clock)
    for n in range(7):
        join(live, n, 0, n + 1)

    async def no_decisions(limit: int) -> list[dict[str, Any]]:
        return []

    app = web.Application(middlewares=[error_middleware])
    app[IDENTIFIER] = Supervisor()
    setup_ops_routes(app, OpsContext(live, clock, lambda: True, no_decisions))
    async with TestClient(TestServer(app)) as client:
        yield client, live


async def test_queues_and_calls_are_paged_over_http(
    http: tuple[TestClient[Any, Any], LiveState],
) -> None:
    client, _ = http
    response = await client.get("/api/queues", params={"limit": "3"})
    body = await response.json()
    (queue,) = body["queues"]
    assert (queue["waiting"], len(queue["callers"])) == (7, 3)
    response = await client.get(
        "/api/queues", params={"queue": "coordinators", "after": queue["next_after"]}
    )
    (rest,) = (await response.json())["queues"]
    assert [c["position"] for c in rest["callers"]] == [4, 5, 6, 7]
    assert rest["next_after"] is None

    response = await client.get("/api/calls", params={"limit": "5", "recent": "0"})
    body = await response.json()
    assert (len(body["live"]), body["live_total"], body["next_after"]) == (5, 7, "5")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/queues", {"limit": "0"}, "limit"),
        ("/api/queues", {"limit": "100000"}, "limit"),
        ("/api/queues", {"after": "0:1"}, "after"),
        ("/api/queues", {"queue": "coordinators", "after": "1"}, "after"),
        ("/api/queues", {"queue": "coordinators", "after": "x"}, "after"),
        ("/api/queues", {"queue": "nowhere"}, "queue"),
        ("/api/calls", {"limit": "many"}, "limit"),
        ("/api/calls", {"after": "x"}, "after"),
    ],
)
async def test_bad_paging_is_a_json_error(
    http: tuple[TestClient[Any, Any], LiveState], path: str, params: dict[str, str], field: str
) -> None:
    client, _ = http
    response = await client.get(path, params=params)
    assert response.status == 400
    assert (await response.json())["error"]["field"] == field
