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


class _LoopTimer:
    """One timer on the event loop, without a reference cycle.

    A closure naming its own handle (handle -> callback -> closure -> handle) made every
    timer cyclic garbage: at 400 calls/s, tens of thousands of objects a second left for
    the collector, whose full collections then held the simulator's loop for 40-140 ms
    and sent a burst of events no Asterisk sends (bench/routing_latency.py). Firing or
    cancelling drops the timer's references, so it is freed at once."""

    __slots__ = ("_callback", "_handle", "_timers")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        callback: Callable[[], None],
        timers: set[_LoopTimer],
    ) -> None:
        self._callback: Callable[[], None] | None = callback
        self._timers = timers
        self._handle: asyncio.TimerHandle | None = loop.call_later(delay, self._fire)
        timers.add(self)

    def _fire(self) -> None:
        callback = self._callback
        self._forget()
        if callback is not None:
            callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._forget()

    def _forget(self) -> None:
        self._timers.discard(self)
        self._callback = None
        self._handle = None


class AsyncioScheduler:
    def __init__(self, loop: asyncio.AbstractEventLoop, time_scale: float, epoch: float) -> None:
        self._loop = loop
        self._scale = time_scale
        self._epoch = epoch
        self._origin = loop.time()
        self._timers: set[_LoopTimer] = set()

    def now(self) -> float:
        return self._epoch + (self._loop.time() - self._origin) / self._scale

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return _LoopTimer(self._loop, max(delay, 0.0) * self._scale, callback, self._timers)

    def cancel_all(self) -> None:
        for timer in list(self._timers):
            timer.cancel()


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
