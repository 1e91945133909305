"""A coroutine started eagerly runs at once up to its first wait, then as a task would."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from callrouter.eager import start_eagerly

steps: contextvars.ContextVar[list[str]] = contextvars.ContextVar("steps")


async def test_it_runs_at_once_up_to_its_first_wait_then_goes_on_in_a_task() -> None:
    seen: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def work() -> str:
        seen.append("started")
        answer = await gate
        seen.append(f"got {answer}")
        await asyncio.sleep(0)
        seen.append("after a turn")
        return answer.upper()

    future = start_eagerly(work())
    # Not a turn of the loop yet: a plain task would not have started.
    assert seen == ["started"]
    gate.set_result("redirect")
    assert await future == "REDIRECT"
    assert seen == ["started", "got redirect", "after a turn"]


async def test_a_coroutine_that_never_waits_is_done_at_once() -> None:
    async def work() -> int:
        return 7

    future = start_eagerly(work())
    assert future.done() and future.result() == 7


async def test_errors_reach_the_future_before_and_after_the_first_wait() -> None:
    async def at_once() -> None:
        raise ValueError("bad event")

    async def later() -> None:
        await asyncio.sleep(0)
        raise KeyError("gone")

    early = start_eagerly(at_once())
    assert isinstance(early.exception(), ValueError)
    with pytest.raises(KeyError):
        await start_eagerly(later())


async def test_cancelling_reaches_the_coroutine_where_it_waits() -> None:
    cleaned: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def work() -> None:
        try:
            await never
        finally:
            cleaned.append("cleaned")
            await asyncio.sleep(0)  # a coroutine may still wait while it cleans up
            cleaned.append("after cleanup")

    future = start_eagerly(work())
    await asyncio.sleep(0)
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    assert cleaned == ["cleaned", "after cleanup"]
    assert never.cancelled()


async def test_cancelling_before_the_task_first_runs_reaches_the_coroutine_too() -> None:
    # The router stopping in the turn a call was taken: the routing waits on the PBX's
    # answers, and must clean up (give its actions up) rather than be left suspended.
    cleaned: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def work() -> None:
        try:
            await never
        finally:
            cleaned.append("cleaned")

    future = start_eagerly(work())
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    assert cleaned == ["cleaned"]
    assert never.cancelled()


async def test_an_exception_caught_by_the_coroutine_lets_it_go_on() -> None:
    async def work() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0)
            return "stopped cleanly"
        return "slept"

    future = start_eagerly(work())
    await asyncio.sleep(0)
    future.cancel()
    assert await asyncio.gather(future, return_exceptions=True) == ["stopped cleanly"]


async def test_context_variables_set_inside_stay_inside() -> None:
    steps.set(["outside"])

    async def work() -> list[str]:
        steps.set(["inside"])
        await asyncio.sleep(0)
        return steps.get()

    future = start_eagerly(work())
    assert steps.get() == ["outside"]
    assert await future == ["inside"]
