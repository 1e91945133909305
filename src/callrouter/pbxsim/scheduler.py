"""Model time: the simulator's dialplan runs on a scheduler, so tests can drive it by hand.

`now()` is model epoch seconds (what Uniqueids, `Arrival:` and hold times are made of).
`AsyncioScheduler` maps one model second to `time_scale` real seconds; `ManualScheduler`
only moves when told to, which lets tests run hours of traffic in milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    def now(self) -> float:
        """Model time, epoch seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` after `delay` model seconds."""
        ...


class AsyncioScheduler:
    def __init__(self, loop: asyncio.AbstractEventLoop, time_scale: float, epoch: float) -> None:
        self._loop = loop
        self._scale = time_scale
        self._epoch = epoch
        self._origin = loop.time()
        self._handles: set[asyncio.TimerHandle] = set()

    def now(self) -> float:
        return self._epoch + (self._loop.time() - self._origin) / self._scale

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        def run() -> None:
            self._handles.discard(handle)
            callback()

        handle = self._loop.call_later(max(delay, 0.0) * self._scale, run)
        self._handles.add(handle)
        return handle

    def cancel_all(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()


class _ManualTimer:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Virtual time for tests: `advance(seconds)` runs every timer that falls due, in order."""

    def __init__(self, epoch: float) -> None:
        self._now = epoch
        self._queue: list[tuple[float, int, _ManualTimer, Callable[[], None]]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer()
        due = self._now + max(delay, 0.0)
        heapq.heappush(self._queue, (due, next(self._sequence), timer, callback))
        return timer

    def advance(self, seconds: float) -> None:
        end = self._now + seconds
        while self._queue and self._queue[0][0] <= end:
            due, _, timer, callback = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            if not timer.cancelled:
                callback()
        self._now = end

    @property
    def pending(self) -> int:
        return sum(1 for _, _, timer, _ in self._queue if not timer.cancelled)
