"""Starting a coroutine in the caller's own turn of the event loop (Python 3.12's eager
tasks, which 3.11 lacks).

The router starts a call's routing from inside the AMI reader's handling of its
HotlineCall. As a plain task it ran only once the reader had handed out the rest of what it
had read (up to 64 events, about 2 ms at 400 calls/s) and the tasks queued before it: most
of the routing latency's tail. Started eagerly, the routing runs at once up to its first
real wait; when the caller is known from memory that is after its Redirect was written. What
is left (the PBX's answers, the record) goes on in a task, exactly as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def start_eagerly(coroutine: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Runs `coroutine` now until it first suspends, then as a task; its future either way.

    The first step runs in a copy of the current context, which the task goes on with, so
    context variables it sets stay its own, as in a task. Cancelling the future while the
    coroutine waits cancels the coroutine where it waits."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    try:
        awaited = context.run(coroutine.send, None)
    except StopIteration as finished:
        done: asyncio.Future[T] = loop.create_future()
        done.set_result(finished.value)
        return done
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        failed: asyncio.Future[T] = loop.create_future()
        if isinstance(error, asyncio.CancelledError):
            failed.cancel()
        else:
            failed.set_exception(error)
        return failed
    go_on = _go_on(coroutine, awaited)
    # Up to its first `yield`: a task cancelled before its first step throws into a
    # generator not started, which would end it without a word to the coroutine.
    go_on.send(None)
    return loop.create_task(go_on, context=context)


@types.coroutine
def _go_on(coroutine: Coroutine[Any, Any, T], awaited: Any) -> Generator[Any, None, T]:
    """The rest of `coroutine`, which is suspended on `awaited`: the task waits on what the
    coroutine waits on, and hands it each wake-up or exception (what `yield from` does,
    for a coroutine already started). Started by `start_eagerly` up to its first `yield`,
    where the task's first step finds it."""
    try:
        yield
    except GeneratorExit:
        coroutine.close()
        raise
    except BaseException as error:
        # Cancelled before the task ever waited on `awaited`: cancel it as the task would
        # have, and the coroutine hears it where it waits.
        if isinstance(error, asyncio.CancelledError) and isinstance(awaited, asyncio.Future):
            awaited.cancel()
        try:
            awaited = coroutine.throw(error)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
    while True:
        try:
            yield awaited
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as error:
            try:
                awaited = coroutine.throw(error)
            except StopIteration as finished:
                return finished.value  # type: ignore[no-any-return]
            continue
        try:
            awaited = coroutine.send(None)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
