"""The console hub: one computation of the panels, shared by every connected console.

Sources announce changes with `changed(topic)` (cheap and synchronous: it runs on the AMI
reader's path for every event that changes the live view). The hub's task gathers what was
announced during `push_interval`, recomputes only the panels that depend on it, once per
visibility (masked for supervisors, whole for admins) whatever the number of consoles,
and writes the same bytes to every console's connection: a full snapshot to a console that
has just connected (or fell behind, or after a PBX reconnection), else a delta of the
panels whose JSON changed. A message is encoded once, as the HTTP chunk the stream sends,
and written by the hub itself to each connection (no task, queue or timer per console:
those cost the shared loop more than the writes). So the cost of the consoles grows
neither with the AMI traffic nor, beyond one write each, with their number. A push runs in
small steps (a panel, a batch of consoles) with the loop given back in between: the router
shares that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from callrouter.clock import Clock
from callrouter.console.panel import TICK, Panel, PanelView
from callrouter.http.access import Visibility

log = structlog.get_logger(__name__)

#: Bytes a console's connection may hold unsent before the console is considered behind:
#: it is then sent nothing until its backlog is down to `_CAUGHT_UP`, and then a fresh
#: snapshot instead of what it missed.
_BEHIND = 256 * 1024
_CAUGHT_UP = 16 * 1024
#: A console behind for this many seconds is dropped (its browser reconnects if alive).
STALL_SECONDS = 30.0
#: Seconds between two sweeps of the streams (browser gone, session ended, stalled).
SWEEP_SECONDS = 1.0
#: Consoles written to per loop turn.
_BATCH = 16
#: Seconds between two "tick" recomputations.
TICK_SECONDS = 5.0
#: The browser waits this long (ms) before reconnecting a dropped stream.
RETRY_MS = 1000


@dataclass(frozen=True)
class Message:
    """One server-sent event: `kind` is snapshot, delta or signed-out; `data` is JSON on
    one line (JSON escapes line breaks inside strings)."""

    kind: str
    data: str

    @cached_property
    def chunk(self) -> bytes:
        """The event as written to the connection: one chunk of the stream's chunked HTTP
        response (see console/stream.py), encoded once however many consoles it goes to."""
        frame = f"event: {self.kind}\r\ndata: {self.data}\r\nretry: {RETRY_MS}\r\n\r\n".encode()
        return b"%x\r\n%b\r\n" % (len(frame), frame)


SIGNED_OUT = Message("signed-out", "{}")


class Sink(Protocol):
    """A console's connection (its asyncio transport)."""

    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...

    def get_write_buffer_size(self) -> int: ...

    def abort(self) -> None: ...


@dataclass(eq=False)
class Subscription:
    """A console's place at the hub: taken by `subscribe`, sent to once `attach`ed, ended
    (`finished` set) by sign-out, expiry, the server stopping, the browser going away or a
    stall; its stream then returns and `unsubscribe`s it."""

    seen: Visibility
    session: str
    #: Whether the console's session is still signed in (checked by `sweep`).
    live: Callable[[], bool]
    sink: Sink | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    #: Since when (loop time) its connection held too much unsent, None while it keeps up.
    behind_since: float | None = None


class ConsoleHub:
    def __init__(
        self,
        clock: Clock,
        timezone: ZoneInfo,
        *,
        push_interval: float,
        max_consoles: int,
        clock_rate: float = 1.0,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self._clock = clock
        self._timezone = timezone
        self._push_interval = push_interval
        self._max_consoles = max_consoles
        self._clock_rate = clock_rate
        self._tick_seconds = tick_seconds
        self._panels: list[Panel] = []
        self._before_flush: list[Callable[[set[str]], None]] = []
        # The consoles by visibility: a push goes to each group without sorting them again.
        self._groups: dict[Visibility, dict[Subscription, None]] = {}
        self._count = 0
        # Per visibility: panel key -> the JSON text every console of it was last sent.
        self._sent: dict[Visibility, dict[str, str]] = {}
        self._dirty: set[str] = set()
        self._resync = False
        self._wake = asyncio.Event()
        self.flushes = 0
        #: The latest pushes' cost to the loop (bench/console_latency.py prints them).
        self.timings: deque[PushTiming] = deque(maxlen=10_000)

    # -- building ---------------------------------------------------------------------------

    def register(self, panel: Panel) -> None:
        if any(existing.key == panel.key for existing in self._panels):
            raise ValueError(f"a console panel is already named {panel.key!r}")
        self._panels.append(panel)

    @property
    def panels(self) -> tuple[Panel, ...]:
        return tuple(self._panels)

    def before_flush(self, hook: Callable[[set[str]], None]) -> None:
        """`hook(topics)` runs once before each recomputation (e.g. to sample a count)."""
        self._before_flush.append(hook)

    # -- sources ----------------------------------------------------------------------------

    def changed(self, topic: str) -> None:
        self._dirty.add(topic)
        self._wake.set()

    def resync(self) -> None:
        """Every console gets a full snapshot at the next push (after a PBX reconnection)."""
        self._resync = True
        self._wake.set()

    # -- consoles ---------------------------------------------------------------------------

    @property
    def consoles(self) -> int:
        return self._count

    def subscribe(
        self, seen: Visibility, session: str, live: Callable[[], bool] = lambda: True
    ) -> Subscription | None:
        """A place for a new console, or None when `max_consoles` are connected. It is sent
        nothing until `attach`ed to its connection."""
        if self._count >= self._max_consoles:
            return None
        subscription = Subscription(seen, session, live)
        self._groups.setdefault(seen, {})[subscription] = None
        self._count += 1
        return subscription

    def attach(self, subscription: Subscription, sink: Sink) -> None:
        """The console's connection is ready: its full snapshot is written now, then every
        push. (Synchronous: no push can come between the snapshot and the next delta.)"""
        if subscription.finished.is_set() or subscription not in self._groups.get(
            subscription.seen, ()
        ):
            return
        subscription.sink = sink
        self._write(subscription, self._snapshot(subscription.seen))

    def unsubscribe(self, subscription: Subscription) -> None:
        group = self._groups.get(subscription.seen)
        if group is None or subscription not in group:
            return
        del group[subscription]
        self._count -= 1
        if not group:
            # Nobody to keep it for: the next console of this kind computes afresh.
            self._groups.pop(subscription.seen, None)
            self._sent.pop(subscription.seen, None)

    def _all(self) -> list[Subscription]:
        return [subscription for group in self._groups.values() for subscription in group]

    def end_session(self, session: str) -> None:
        """A console session signed out: its open streams end now."""
        for subscription in self._all():
            if subscription.session == session:
                self._end(subscription, SIGNED_OUT)

    def close_all(self) -> None:
        """The server is stopping: every stream ends now, so that shutdown does not wait."""
        for subscription in self._all():
            self._end(subscription)

    def sweep(self) -> None:
        """Ends the streams whose browser went away, whose session ended (expired) and
        those stalled (behind for `STALL_SECONDS`: their connection is dropped)."""
        now = asyncio.get_running_loop().time()
        for subscription in self._all():
            sink = subscription.sink
            if subscription.finished.is_set():
                continue
            if sink is not None and sink.is_closing():
                self._end(subscription)
            elif not subscription.live():
                self._end(subscription, SIGNED_OUT)
            elif (
                sink is not None
                and subscription.behind_since is not None
                and now - subscription.behind_since >= STALL_SECONDS
            ):
                self._end(subscription)
                sink.abort()

    async def keep_streams(self, interval: float = SWEEP_SECONDS) -> None:
        """`sweep` every `interval` seconds (a task owned by the console's context): one
        timer for every console, not one per console."""
        while True:
            await asyncio.sleep(interval)
            self.sweep()

    def _end(self, subscription: Subscription, last: Message | None = None) -> None:
        if subscription.finished.is_set():
            return
        if last is not None:
            self._write(subscription, last)
        subscription.finished.set()

    # -- computing --------------------------------------------------------------------------

    async def run(self) -> None:
        """The hub's task (owned by the console's cleanup context)."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self._tick_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(next_tick):
                    await self._wake.wait()
            if loop.time() >= next_tick:
                # On time, not only when idle: under steady traffic the hub never idles,
                # and the panels that follow the clock (countdowns, windows) must move.
                self._dirty.add(TICK)
                next_tick = loop.time() + self._tick_seconds
            # Gather the burst of changes that woke us into one push.
            await asyncio.sleep(self._push_interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                # The consoles must keep being served after a bad round (a failing hook).
                log.exception("console.flush_failed")

    async def flush(self) -> None:
        """One push: the panels whose topics were announced, recomputed once per
        visibility, and the same message handed to every console of it.

        It gives the loop back after each panel and each small batch of consoles: the
        router shares this loop, and a call arriving during a push then waits for one of
        those steps, not for the whole push."""
        steps = _Steps()
        topics, self._dirty = self._dirty, set()
        resync, self._resync = self._resync, False
        for hook in self._before_flush:
            hook(topics)
        self.flushes += 1
        for seen in list(self._groups):
            sent = self._sent.setdefault(seen, {})
            view = self._view(seen)
            changed: dict[str, str] = {}
            for panel in self._panels:
                if not resync and panel.key in sent and not panel.topics & topics:
                    continue
                text = _computed(panel, view)
                if text is not None and (resync or sent.get(panel.key) != text):
                    sent[panel.key] = changed[panel.key] = text
                await steps.pause(panel.key)
            if resync:
                message = self._message("snapshot", dict(sent))
            elif changed:
                message = self._message("delta", changed)
            else:
                continue
            group = list(self._groups.get(seen, ()))
            for first in range(0, len(group), _BATCH):
                for subscription in group[first : first + _BATCH]:
                    self._deliver(subscription, message)
                await steps.pause("writes")
        self.timings.append(steps.finish())

    def _snapshot(self, seen: Visibility) -> Message:
        """Every panel: as the other consoles of this visibility were last sent it (the
        next delta brings them all up to date together), or computed now when no console
        of this visibility is connected."""
        sent = self._sent.get(seen)
        if sent is None:
            view = self._view(seen)
            computed = {panel.key: _computed(panel, view) for panel in self._panels}
            sent = self._sent[seen] = {
                key: text for key, text in computed.items() if text is not None
            }
        return self._message("snapshot", dict(sent))

    def _view(self, seen: Visibility) -> PanelView:
        return PanelView(now=self._clock.now(), timezone=self._timezone, seen=seen)

    def _message(self, kind: str, panels: dict[str, str]) -> Message:
        head: dict[str, Any] = {
            "at": self._clock.now().astimezone(self._timezone).isoformat(),
            "clock_rate": self._clock_rate,
        }
        body = ",".join(f"{json.dumps(key)}:{text}" for key, text in panels.items())
        return Message(kind, json.dumps(head)[:-1] + f',"panels":{{{body}}}}}')

    def _deliver(self, subscription: Subscription, message: Message) -> None:
        sink = subscription.sink
        if sink is None or subscription.finished.is_set():
            return
        unsent = sink.get_write_buffer_size()
        if subscription.behind_since is not None:
            if unsent > _CAUGHT_UP:
                return
            # A console that did not read fast enough skips to the present.
            subscription.behind_since = None
            message = self._snapshot(subscription.seen)
        elif unsent > _BEHIND:
            subscription.behind_since = asyncio.get_running_loop().time()
            return
        self._write(subscription, message)

    @staticmethod
    def _write(subscription: Subscription, message: Message) -> None:
        sink = subscription.sink
        # A connection closing is left to `sweep` (writing to it would only log warnings).
        if sink is not None and not sink.is_closing():
            sink.write(message.chunk)


@dataclass(frozen=True)
class PushTiming:
    """What one push cost the shared loop, in ms: the CPU of all its steps, and its longest
    step (the most a call arriving during the push waits for it) in CPU and in wall time
    (more than the CPU when the machine's other processes took the core meanwhile), and
    what that step was (a panel's key, or "writes"); `steps`: each step's name and CPU."""

    cpu_ms: float
    longest_cpu_ms: float
    longest_wall_ms: float
    longest: str
    steps: tuple[tuple[str, float], ...]


class _Steps:
    """Times the synchronous steps of one push between its pauses."""

    def __init__(self) -> None:
        self._cpu = self._longest_cpu = self._longest_wall = 0.0
        self._longest = ""
        self._steps: list[tuple[str, float]] = []
        self._start()

    async def pause(self, step: str) -> None:
        """The step `step` is done: the loop runs what is ready before the next one."""
        self._lap(step)
        await asyncio.sleep(0)
        self._start()

    def finish(self) -> PushTiming:
        self._lap("end")
        return PushTiming(
            self._cpu * 1000,
            self._longest_cpu * 1000,
            self._longest_wall * 1000,
            self._longest,
            tuple(self._steps),
        )

    def _start(self) -> None:
        self._wall_since, self._cpu_since = time.perf_counter(), time.thread_time()

    def _lap(self, step: str) -> None:
        cpu = time.thread_time() - self._cpu_since
        self._cpu += cpu
        self._steps.append((step, cpu * 1000))
        if cpu > self._longest_cpu:
            self._longest_cpu, self._longest = cpu, step
        self._longest_wall = max(self._longest_wall, time.perf_counter() - self._wall_since)


def _computed(panel: Panel, view: PanelView) -> str | None:
    """A panel's JSON, or None when it failed: a broken panel must not stop the others (its
    consoles keep what they were last sent)."""
    try:
        render: Callable[[PanelView], str] | None = getattr(panel, "render", None)
        if render is not None:
            return render(view)
        return json.dumps(panel.snapshot(view), separators=(",", ":"), ensure_ascii=False)
    except Exception:
        log.exception("console.panel_failed", panel=panel.key)
        return None
