"""Keeps the live state true to the PBX: rebuilds and periodic member resynchronisation.

- After every AMI login, and after a reload of the queues (`Reload` event with `Module: All`
  or app_queue), the state is rebuilt from QueueStatus and CoreShowChannels, sent together.
  Events keep arriving while the PBX answers: they are buffered, the state is rebuilt from the
  two lists, and the buffered events that the lists cannot reflect are applied on top.
  Asterisk writes events and answers on one stream, in order: an event that arrived before
  the first item of a list happened before that list was taken; one that arrived after may
  not be in it. So events before the QueueStatus items are skipped (both lists reflect them),
  channel events before the CoreShowChannels items are skipped (that list reflects them), and
  everything after is applied. The priorities the dialplan announces (VarSet, UserEvent) are
  remembered whatever their place: no list carries them for a caller who has not joined yet.
- `queue reload all` emits no event at all, so every `resync_interval` seconds each queue's
  members and counters are read again with one QueueStatus per queue. Its items are taken as
  they arrive, in stream order with the events, so nothing needs buffering.

The list actions are sent with `send_actions`, which settles on the list's first response;
their items then reach subscribers in stream order with every other event (ami/client.py), and
are recognised here by their ActionID.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

import structlog

from callrouter.ami.errors import AMIConnectionError, AMIError
from callrouter.ami.message import Message
from callrouter.live.snapshot import QUEUE_STATUS_ITEMS
from callrouter.live.state import CHANNEL_EVENTS, LiveState

log = structlog.get_logger(__name__)

Headers = Sequence[tuple[str, str]]

#: Remembered whatever their place in a rebuild (see the module docstring).
_PRIORITY_EVENTS = frozenset({"VarSet", "UserEvent"})
_QUEUE_STATUS_COMPLETE = "QueueStatusComplete"
_LIST_EVENTS = QUEUE_STATUS_ITEMS | {
    _QUEUE_STATUS_COMPLETE,
    "CoreShowChannel",
    "CoreShowChannelsComplete",
}
_QUEUE_STATUS_LISTS = QUEUE_STATUS_ITEMS | {_QUEUE_STATUS_COMPLETE}
#: `Module:` values of a Reload event after which the queues may have changed.
_QUEUE_MODULES = frozenset({"all", "app_queue", "app_queue.so"})


class StatusLink(Protocol):
    """What the synchronisation needs of the AMI client."""

    @property
    def connected(self) -> bool: ...

    def subscribe(self, handler: Callable[[Message], None]) -> Callable[[], None]: ...

    def on_connected(self, handler: Callable[[], Awaitable[None]]) -> Callable[[], None]: ...

    def on_disconnected(self, handler: Callable[[], None]) -> Callable[[], None]: ...

    async def send_actions(
        self, actions: Sequence[tuple[str, Headers]], *, timeout: float | None = None
    ) -> list[Message | AMIError]: ...


def reloads_queues(event: Message) -> bool:
    module = (event.get("Module") or "").strip().lower()
    return event.name == "Reload" and module in _QUEUE_MODULES


class _QueueResync:
    """One per-queue QueueStatus in flight: the members it listed so far."""

    __slots__ = ("action_id", "complete", "listed", "params", "queue")

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.action_id: str | None = None
        self.listed: set[str] = set()
        self.params = False
        self.complete = False


class LiveSync:
    """Rebuilds `live` from the PBX after each login and each queue reload, and resyncs the
    queue members every `resync_interval` seconds (`start` runs that task, `close` stops
    everything it started)."""

    def __init__(
        self,
        pbx: StatusLink,
        live: LiveState,
        *,
        resync_interval: float,
        list_timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if resync_interval <= 0 or list_timeout <= 0:
            raise ValueError("the resync interval and list timeout must be positive")
        self._pbx = pbx
        self._live = live
        self._resync_interval = resync_interval
        self._list_timeout = list_timeout
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._progress = asyncio.Event()
        self._dropped = False
        # Events held while a rebuild waits for its lists, and the lists completed so far.
        self._buffer: list[Message] | None = None
        self._completes: set[str] = set()
        self._again = False
        self._rebuild_queued = False
        # Whether the last rebuild succeeded; if not, the periodic task retries it.
        self._rebuilt = True
        self._resync: _QueueResync | None = None
        # The rebuilds started on a reload; the periodic resync.
        self._tasks: set[asyncio.Task[None]] = set()
        self._resyncing: asyncio.Task[None] | None = None

    def attach(self) -> list[Callable[[], None]]:
        """Subscribes to the PBX link; returns the unsubscribes."""
        return [
            self._pbx.subscribe(self.on_event),
            self._pbx.on_connected(self.rebuild),
            self._pbx.on_disconnected(self._on_disconnected),
        ]

    def start(self) -> None:
        self._resyncing = asyncio.create_task(self._resync_forever(), name="live-resync")

    async def wait_idle(self) -> None:
        """Returns once the rebuilds that reloads asked for are done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._resyncing] if self._resyncing else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _own(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the event stream ------------------------------------------------------------------

    def on_event(self, event: Message) -> None:
        buffer = self._buffer
        if buffer is not None:
            buffer.append(event)
            if event.name in _LIST_EVENTS and event.is_list_complete:
                self._completes.add(event.action_id or "")
                self._progress.set()
            elif event.name == "Reload" and reloads_queues(event):
                self._again = True
            return
        resync = self._resync
        if resync is not None:
            if event.name in _LIST_EVENTS and self._resynced(event):
                return
            if event.name == "QueueMemberAdded" and event.get("Queue") == resync.queue:
                # Added after the list was taken: not in it, but there.
                resync.listed.add(event.get("Interface") or "")
        self._live.apply(event)
        if event.name == "Reload" and reloads_queues(event):
            log.info("live.reload_seen", module=event.get("Module"))
            self._queue_rebuild()

    def _queue_rebuild(self) -> None:
        if not self._rebuild_queued:
            self._rebuild_queued = True
            self._own(self.rebuild(), "live-rebuild")

    def _on_disconnected(self) -> None:
        self._dropped = True
        self._progress.set()

    async def _wait(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(self._list_timeout):
            while not done():
                if self._dropped:
                    raise AMIConnectionError("the AMI link dropped before the list was complete")
                self._progress.clear()
                await self._progress.wait()

    async def _send(self, actions: Sequence[tuple[str, Headers]]) -> list[str]:
        """Sends list actions; their ActionIDs once each list has started."""
        self._dropped = False
        answers = await self._pbx.send_actions(actions, timeout=self._list_timeout)
        ids: list[str] = []
        for (name, _), answer in zip(actions, answers, strict=True):
            if isinstance(answer, AMIError):
                raise answer
            if not answer.is_list_start or answer.action_id is None:
                raise AMIError(f"{name} was answered without a list")
            ids.append(answer.action_id)
        return ids

    # -- rebuild ---------------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Rebuilds the state from the PBX's lists, again if the queues were reloaded
        meanwhile."""
        async with self._lock:
            self._rebuild_queued = False
            self._again = True
            while self._again:
                self._again = False
                await self._rebuild_once()

    async def _rebuild_once(self) -> None:
        buffer: list[Message] = []
        self._buffer, self._completes = buffer, set()
        try:
            ids = await self._send([("QueueStatus", ()), ("CoreShowChannels", ())])
            await self._wait(lambda: self._completes.issuperset(ids))
        except (AMIError, TimeoutError) as error:
            self._buffer = None
            self._rebuilt = False
            log.warning("live.rebuild_failed", error=str(error) or type(error).__name__)
            # The old state stays; it still takes what happened meanwhile.
            for event in buffer:
                if event.name not in _LIST_EVENTS:
                    self._live.apply(event)
            return
        finally:
            self._buffer = None
        self._install(buffer, *ids)
        self._rebuilt = True

    def _install(self, buffer: list[Message], queue_status_id: str, channels_id: str) -> None:
        queue_status: list[Message] = []
        channels: list[Message] = []
        events: list[Message] = []
        queues_from = channels_from = len(buffer)
        for event in buffer:
            action_id = event.action_id if event.name in _LIST_EVENTS else None
            if action_id == queue_status_id:
                queues_from = min(queues_from, len(events))
                queue_status.append(event)
            elif action_id == channels_id:
                channels_from = min(channels_from, len(events))
                channels.append(event)
            else:
                events.append(event)
        self._live.rebuild(queue_status, channels)
        replayed = 0
        for index, event in enumerate(events):
            name = event.name
            if index < queues_from and name not in _PRIORITY_EVENTS:
                continue
            if index < channels_from and name in CHANNEL_EVENTS:
                continue
            self._live.apply(event)
            replayed += 1
        log.info("live.rebuild_replayed", buffered=len(events), replayed=replayed)

    # -- periodic member resynchronisation -------------------------------------------------

    async def _resync_forever(self) -> None:
        while True:
            await self._sleep(self._resync_interval)
            try:
                await self._resync_all()
            except Exception:
                # A bug here must not stop the next resynchronisations.
                log.exception("live.resync_crashed")

    async def _resync_all(self) -> None:
        if not self._pbx.connected:
            return
        if not self._rebuilt:
            # The last rebuild failed: the view may know no queue at all.
            await self.rebuild()
            return
        for name in self._live.queue_names():
            if not self._pbx.connected:
                return
            await self.resync_queue(name)

    async def resync_queue(self, name: str) -> None:
        """Reads one queue's members and counters again (QueueStatus Queue=name)."""
        async with self._lock:
            resync = self._resync = _QueueResync(name)
            try:
                (action_id,) = await self._send([("QueueStatus", [("Queue", name)])])
                resync.action_id = resync.action_id or action_id
                await self._wait(lambda: resync.complete)
            except (AMIError, TimeoutError) as error:
                log.warning("live.resync_failed", queue=name, error=str(error) or "timeout")
                return
            finally:
                self._resync = None
        if not resync.params:
            # The PBX no longer has this queue: a reload without an event changed the queues.
            log.info("live.queue_vanished", queue=name)
            self._queue_rebuild()

    def _resynced(self, event: Message) -> bool:
        """Takes an item of the resync in flight; False for anything else."""
        resync = self._resync
        assert resync is not None
        action_id = event.action_id
        if resync.action_id is None and event.name in _QUEUE_STATUS_LISTS:
            # Items can arrive before send_actions returns the list's ActionID; only this
            # resync lists QueueStatus items to subscribers.
            resync.action_id = action_id
        if action_id is None or action_id != resync.action_id:
            return False
        if event.name == _QUEUE_STATUS_COMPLETE:
            if resync.params:
                self._live.keep_members(resync.queue, resync.listed)
            resync.complete = True
            self._progress.set()
        elif event.name in QUEUE_STATUS_ITEMS and event.get("Queue") == resync.queue:
            resync.params = resync.params or event.name == "QueueParams"
            interface = self._live.resync_item(event)
            if interface is not None:
                resync.listed.add(interface)
        return True
