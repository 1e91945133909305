"""Movements and incidents page by page, newest first, filtered by kind and by time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .conftest import CALLBACK, World


async def _pages(world: World, holder: dict[str, str], path: str) -> list[list[Any]]:
    pages: list[list[Any]] = []
    url = path
    while True:
        status, page = await world.json("GET", url, holder)
        assert status == 200, page
        pages.append(page["items"])
        if page["next_cursor"] is None:
            return pages
        joiner = "&" if "?" in path else "?"
        url = f"{path}{joiner}cursor={page['next_cursor']}"


async def _history(world: World) -> tuple[str, dict[str, str]]:
    """Seven movements, one hour apart from 09:00 UTC: credits of 100..500, two debits."""
    number, holder = await world.holder()
    coordinator = await world.coordinator()
    for index in range(5):
        await world.ledger.credit(
            number, 100 * (index + 1), reason="order", idempotency_key=f"order-{index}"
        )
        world.clock.advance(timedelta(hours=1))
    for index in range(2):
        body = {"account_number": number, "level": "standard", "pass": "4h", **CALLBACK}
        status, _ = await world.json(
            "POST", "/api/incidents", coordinator, body | {"idempotency_key": f"i{index}"}
        )
        assert status == 201
        world.clock.advance(timedelta(hours=1))
    return number, holder


async def test_movements_page_newest_first_without_gaps_or_repeats(world: World) -> None:
    _, holder = await _history(world)
    pages = await _pages(world, holder, "/api/account/movements?limit=3")
    assert [len(page) for page in pages] == [3, 3, 1]
    amounts = [item["amount"] for page in pages for item in page]
    assert amounts == [-35, -35, 500, 400, 300, 200, 100]
    times = [item["at"] for page in pages for item in page]
    assert times == sorted(times, reverse=True)


async def test_a_page_that_fits_exactly_has_no_next_cursor(world: World) -> None:
    _, holder = await _history(world)
    assert [
        len(page) for page in await _pages(world, holder, "/api/account/movements?limit=7")
    ] == [7]


async def test_filter_by_kind(world: World) -> None:
    _, holder = await _history(world)
    pages = await _pages(world, holder, "/api/account/movements?kind=debit&limit=1")
    assert [[item["kind"] for item in page] for page in pages] == [["debit"], ["debit"]]


async def test_filter_by_time_from_inclusive_to_exclusive(world: World) -> None:
    _, holder = await _history(world)
    # Paris time (+01:00 in March) is understood: 11:00+01:00 is 10:00Z.
    query = "from=2025-03-03T11:00:00%2B01:00&to=2025-03-03T13:00:00Z"
    pages = await _pages(world, holder, f"/api/account/movements?{query}")
    # Times come back in the calendar's zone (Paris), offset included.
    assert [item["at"] for page in pages for item in page] == [
        "2025-03-03T13:00:00+01:00",
        "2025-03-03T12:00:00+01:00",
        "2025-03-03T11:00:00+01:00",
    ]


async def test_incidents_page_newest_first(world: World) -> None:
    _, holder = await _history(world)
    pages = await _pages(world, holder, "/api/account/incidents?limit=1")
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == 2
    assert ids == sorted(ids, reverse=True)
