"""Waiting for the running system in tests over real TCP: on a condition it reaches,
never on a deadline; the limit is a safety net only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

#: Long enough for a loaded machine; a test that passes never waits for it.
LIMIT = 20.0


async def until(condition: Callable[[], bool], what: str, limit: float = LIMIT) -> None:
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


async def until_async(
    condition: Callable[[], Awaitable[bool]], what: str, limit: float = LIMIT
) -> None:
    try:
        async with asyncio.timeout(limit):
            while not await condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for: {what}") from None
