"""An asyncio client of the Asterisk Manager Interface that keeps its link up.

What it promises, because the router depends on it:

- Each action gets a unique ActionID and its `Response` is matched by that ID, so several
  actions can be in flight at once (Asterisk answers in order, we do not rely on it).
- An action is written once, on the link that is up when it is sent. If that link drops
  before the answer, the action fails with `AMIConnectionError` and is never re-sent: an
  `Originate` re-sent after a reconnect would ring an agent twice.
- A refused login is final (`AMILoginError`): no retry loop against wrong credentials.
- When Asterisk drops the link or restarts, the client reconnects with exponential backoff
  and jitter, logs in again and runs the `on_connected` handlers, where the router rebuilds
  its live view with status actions.
- Malformed and unknown frames are logged, counted and skipped; a subscriber that raises
  is logged. Neither stops the reader.

Events are classified by their first header (see ami-traces/README.md): `OriginateResponse`
carries `Response:` and the Originate's ActionID but is an event, so it goes to subscribers
and never resolves an action.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import itertools
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import structlog

from callrouter.ami.errors import (
    AMIActionError,
    AMIConnectionError,
    AMIError,
    AMILoginError,
    AMITimeoutError,
)
from callrouter.ami.message import Message, MessageKind
from callrouter.ami.parser import AMIParser

__all__ = [
    "AMIActionError",
    "AMIClient",
    "AMIConnectionError",
    "AMIError",
    "AMILoginError",
    "AMIState",
    "AMIStats",
    "AMITimeoutError",
    "reconnect_delays",
]

log = structlog.get_logger(__name__)

BANNER_PREFIX = "Asterisk Call Manager/"
_READ_SIZE = 1 << 16
#: close() waits this long at most for the `Logoff` answer before dropping the link.
_LOGOFF_TIMEOUT = 1.0
#: Seconds of handing events out to subscribers before other tasks get a turn (the next
#: read, the calls it announced). A time, not a count: the subscribers' cost per event
#: varies 10x between a bare counter and the hotline's (live state, holds, console), and
#: a turn after every 64 events cost a quarter of the ingest rate (bench/ami_parser.py).
_TURN_SECONDS = 0.0005
#: Events handed out between two looks at the clock.
_EVENTS_PER_LOOK = 16
#: The clock the hand-out's turns are timed on.
_turn_clock = time.perf_counter
#: Events read but not yet handed out past which reading pauses.
_INBOX_LIMIT = 10_000

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
T = TypeVar("T")


class AMIState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    LOGIN_REFUSED = "login refused"
    CLOSED = "closed"


@dataclass
class AMIStats:
    """Counters since the client was created (a snapshot: `AMIClient.stats` copies them)."""

    logins: int = 0
    reconnects: int = 0
    disconnects: int = 0
    bytes_received: int = 0
    events: int = 0
    list_items: int = 0
    responses: int = 0
    unmatched_responses: int = 0
    malformed_frames: int = 0
    unknown_frames: int = 0
    handler_errors: int = 0
    keepalive_failures: int = 0


def reconnect_delays(
    min_delay: float, max_delay: float, rng: random.Random | None = None
) -> Iterator[float]:
    """Waits before each reconnect attempt: doubling from `min_delay` up to `max_delay`.

    Each wait is drawn between the current step and 1.5 times it (capped at `max_delay`),
    so that several routers cut off by the same PBX restart do not all knock at once.
    """
    if min_delay <= 0 or max_delay < min_delay:
        raise ValueError("reconnect delays need 0 < min_delay <= max_delay")
    draw = rng or random.Random()
    step = min_delay
    while True:
        yield min(max_delay, step * draw.uniform(1.0, 1.5))
        step = min(max_delay, step * 2)


class _PendingAction:
    """An action waiting for its `Response`."""

    __slots__ = ("future",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: asyncio.Future[Message] = loop.create_future()

    def on_response(self, response: Message) -> bool:
        """Settles the action; returns whether it is finished."""
        if not self.future.done():
            if response.is_error:
                self.future.set_exception(AMIActionError(response))
            else:
                self.future.set_result(response)
        return True


class _PendingList:
    """A list action: its `EventList: start` response, then items until `...Complete`."""

    __slots__ = ("future", "items", "started")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: asyncio.Future[list[Message]] = loop.create_future()
        self.items: list[Message] = []
        self.started = False

    def on_response(self, response: Message) -> bool:
        if self.future.done():
            return True
        if response.is_error:
            self.future.set_exception(AMIActionError(response))
            return True
        if response.is_list_start:
            self.started = True
            return False
        # A success without a list to follow: nothing to list.
        self.future.set_result([])
        return True

    def on_complete(self, complete: Message) -> None:
        announced = complete.get("ListItems")
        if announced is not None and announced != str(len(self.items)):
            log.warning(
                "ami.list.count_mismatch",
                ami_event=complete.name,
                announced=announced,
                received=len(self.items),
            )
        if not self.future.done():
            self.future.set_result(self.items)


class _Pending(dict[str, "_PendingAction | _PendingList"]):
    """Actions awaiting their answer, counting the list actions among them: each event asks
    whether a list waits, and scanning hundreds of Setvar/Redirect in flight for that (a
    router behind at 400 calls/s) cost more than the event itself."""

    def __init__(self) -> None:
        super().__init__()
        self.lists = 0

    def __setitem__(self, key: str, entry: _PendingAction | _PendingList) -> None:
        if key in self:
            del self[key]
        super().__setitem__(key, entry)
        self.lists += isinstance(entry, _PendingList)

    def __delitem__(self, key: str) -> None:
        self.lists -= isinstance(self[key], _PendingList)
        super().__delitem__(key)


class _Link:
    """One TCP connection to Asterisk, from banner to drop."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        parser: AMIParser,
        last_received: float,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = parser
        self.pending = _Pending()
        self.last_received = last_received
        self.logged_in = False
        self.dropped = False
        self.reader_task: asyncio.Task[None] | None = None
        self.keepalive_task: asyncio.Task[None] | None = None

    def fail_pending(self, error: AMIConnectionError) -> None:
        pending, self.pending = self.pending, _Pending()
        for entry in pending.values():
            if not entry.future.done():
                entry.future.set_exception(error)

    def tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in (self.reader_task, self.keepalive_task) if t is not None]


class AMIClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        events: bool = True,
        ping_interval: float = 20.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        reconnect_min_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
    ) -> None:
        if ping_interval <= 0 or action_timeout <= 0 or connect_timeout <= 0:
            raise ValueError("AMI intervals and timeouts must be positive")
        # Fails early on bad reconnect bounds rather than at the first drop.
        next(reconnect_delays(reconnect_min_delay, reconnect_max_delay))
        self._host = host
        self._port = port
        self._username = username
        self._secret = secret
        self._events = events
        self._ping_interval = ping_interval
        self._action_timeout = action_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_min_delay = reconnect_min_delay
        self._reconnect_max_delay = reconnect_max_delay
        # Unique across clients and restarts, so an ID never matches another client's echo.
        self._id_prefix = f"cr-{secrets.token_hex(4)}-"
        self._ids = itertools.count(1)
        self._link: _Link | None = None
        self._state = AMIState.IDLE
        self._stats = AMIStats()
        #: time.perf_counter() when the latest read returned: an urgent handler, called right
        #: after it, counts its latency from there (the urgent events before it included).
        #: In-order handlers may run after a later read: for them it is not their read's time.
        self.read_at = 0.0
        # Replaced, never changed in place: a handler may (un)subscribe while events are
        # being delivered.
        self._subscribers: tuple[Callable[[Message], None], ...] = ()
        self._urgent: tuple[tuple[str, Callable[[Message], None]], ...] = ()
        self._connected_handlers: list[Callable[[], Awaitable[None]]] = []
        self._disconnected_handlers: list[Callable[[], None]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()

    # -- public API -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        link = self._link
        return link is not None and link.logged_in and not link.dropped

    @property
    def state(self) -> AMIState:
        return self._state

    @property
    def stats(self) -> AMIStats:
        return replace(self._stats)

    async def connect(self) -> None:
        """Connects and logs in once; then keeps the link up in the background."""
        if self._state is not AMIState.IDLE:
            raise AMIError(f"the AMI client cannot connect: it is {self._state.value}")
        self._state = AMIState.CONNECTING
        try:
            link = await self._open()
        except AMILoginError:
            self._state = AMIState.LOGIN_REFUSED
            raise
        except BaseException:
            if self._state is AMIState.CONNECTING:
                self._state = AMIState.IDLE
            raise
        if self._state is AMIState.CLOSED:
            await self._close_link(link, "the client was closed while connecting")
            raise AMIConnectionError("the AMI client was closed while connecting")
        self._activate(link)
        self._supervisor = asyncio.create_task(self._keep_link_up(link), name="ami-supervisor")

    async def close(self) -> None:
        """Logs off if connected, stops every task and fails every pending action."""
        if self._state is AMIState.CLOSED:
            return
        self._state = AMIState.CLOSED
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        link = self._link
        if link is not None and not link.dropped and link.logged_in:
            try:
                await self._request(link, self._build("Logoff", ()), _LOGOFF_TIMEOUT)
            except AMIError as error:
                log.info("ami.logoff.unanswered", reason=str(error))
        if link is not None:
            await self._close_link(link, "the client was closed")
        handler_tasks = list(self._handler_tasks)
        for task in handler_tasks:
            task.cancel()
        await asyncio.gather(*handler_tasks, return_exceptions=True)

    def subscribe(self, handler: Callable[[Message], None]) -> Callable[[], None]:
        """Calls `handler` with every event that is not an item of a pending list action.

        Handlers run synchronously in the reader, in subscription order: keep them cheap.
        """
        self._subscribers = (*self._subscribers, handler)
        return lambda: self._unsubscribe(handler)

    def subscribe_urgent(
        self, event_name: str, handler: Callable[[Message], None]
    ) -> Callable[[], None]:
        """Calls `handler` with each event named `event_name` as soon as the read that
        carried it is decoded, before the events read with it are handed out (they still
        are, to every `subscribe`d handler, in order, this one included).

        A read holds whatever came while the loop was busy: at 400 calls/s up to a hundred
        events, ~5 ms of handling. A call waiting to be routed should not wait for them.
        """
        entry = (event_name, handler)
        self._urgent = (*self._urgent, entry)

        def unsubscribe() -> None:
            self._urgent = tuple(e for e in self._urgent if e is not entry)

        return unsubscribe

    def _hand_out_urgent(self, messages: list[Message]) -> None:
        event = MessageKind.EVENT
        for message in messages:
            if message.kind is not event:
                continue
            for name, handler in self._urgent:
                if message.name == name:
                    try:
                        handler(message)
                    except Exception:
                        self._stats.handler_errors += 1
                        log.exception("ami.subscriber.failed", ami_event=message.name)

    def _unsubscribe(self, handler: Callable[[Message], None]) -> None:
        """Removes `handler` once; unsubscribing twice is harmless."""
        handlers = list(self._subscribers)
        with contextlib.suppress(ValueError):
            handlers.remove(handler)
        self._subscribers = tuple(handlers)

    def on_connected(self, handler: Callable[[], Awaitable[None]]) -> Callable[[], None]:
        """Awaits `handler` (as a task of the client) after every successful login."""
        self._connected_handlers.append(handler)
        return lambda: _remove(self._connected_handlers, handler)

    def on_disconnected(self, handler: Callable[[], None]) -> Callable[[], None]:
        """Calls `handler` whenever a logged-in link is lost or closed."""
        self._disconnected_handlers.append(handler)
        return lambda: _remove(self._disconnected_handlers, handler)

    async def send_action(
        self,
        name: str,
        headers: Headers = (),
        *,
        timeout: float | None = None,
        action_id_tag: str | None = None,
    ) -> Message:
        """Sends one action and returns its `Response`.

        `action_id_tag` ends the ActionID (`...-<tag>`), so that the events echoing it (an
        async Originate's `OriginateResponse`) name what the action was for, even to another
        process. Raises AMIActionError on `Response: Error`, AMIConnectionError when the link is
        down or drops before the answer (the action is not re-sent), AMITimeoutError.
        """
        return await self._request(
            self._live_link(), self._build(name, headers, action_id_tag), self._timeout(timeout)
        )

    async def send_actions(
        self,
        actions: Sequence[tuple[str, Headers]],
        *,
        timeout: float | None = None,
    ) -> list[Message | AMIError]:
        """Pipelines several actions in one write, in order, and returns their answers in
        order: each the `Response`, or the AMIError of that action alone.

        The bytes are written before this coroutine first suspends, so a caller that
        awaits it directly knows when its actions left (the router's latency measure).
        A link that drops answers each with AMIConnectionError (nothing is re-sent); an
        answer that does not come in time raises AMITimeoutError.
        """
        link = self._live_link()
        encoded = [self._encode(name, headers) for name, headers in actions]
        loop = asyncio.get_running_loop()
        entries = [_PendingAction(loop) for _ in encoded]
        for (action_id, _), entry in zip(encoded, entries, strict=True):
            link.pending[action_id] = entry
        limit = self._timeout(timeout)
        try:
            async with asyncio.timeout(limit):
                link.writer.write(b"".join(data for _, data in encoded))
                await link.writer.drain()
                answers = await asyncio.gather(
                    *(entry.future for entry in entries), return_exceptions=True
                )
        except TimeoutError:
            raise AMITimeoutError(f"Asterisk did not answer within {limit:g} s") from None
        except ConnectionError as error:
            raise AMIConnectionError("the AMI link failed while sending") from error
        finally:
            for (action_id, _), entry in zip(encoded, entries, strict=True):
                if link.pending.get(action_id) is entry:
                    del link.pending[action_id]
                _read_if_failed(entry.future)
        results: list[Message | AMIError] = []
        for answer in answers:
            if isinstance(answer, AMIError | Message):
                results.append(answer)
            else:
                raise answer
        return results

    async def send_list_action(
        self,
        name: str,
        headers: Headers = (),
        *,
        timeout: float | None = None,
    ) -> list[Message]:
        """Sends a list action (QueueStatus, CoreShowChannels, ...) and returns its items.

        The items are the events between the `EventList: start` response and the
        `...Complete` event, which is consumed. An empty list gives [].
        """
        link = self._live_link()
        entry = _PendingList(asyncio.get_running_loop())
        return await self._exchange(
            link, self._build(name, headers), entry, entry.future, self._timeout(timeout)
        )

    # -- actions ----------------------------------------------------------------------------

    def _live_link(self) -> _Link:
        link = self._link
        if link is None or link.dropped or not link.logged_in:
            raise AMIConnectionError(f"not connected to the AMI ({self._state.value})")
        return link

    def _timeout(self, timeout: float | None) -> float:
        return self._action_timeout if timeout is None else timeout

    def _build(self, name: str, headers: Headers, tag: str | None = None) -> Message:
        items = _checked(name, headers)
        action_id = f"{self._id_prefix}{next(self._ids)}"
        if tag is not None:
            if not tag or any(c in tag for c in "\r\n"):
                raise ValueError("an ActionID tag is one non-empty line")
            action_id = f"{action_id}-{tag}"
        return Message.action(name, [("ActionID", action_id), *items])

    def _encode(self, name: str, headers: Headers) -> tuple[str, bytes]:
        """An action's ActionID and bytes, as `_build(...).encode()` without the Message:
        a routed call sends three, each parsed back for its ActionID before."""
        items = _checked(name, headers)
        action_id = f"{self._id_prefix}{next(self._ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines.extend([f"{key}: {value}" for key, value in items])
        lines.append("\r\n")
        return action_id, "\r\n".join(lines).encode()

    async def _request(self, link: _Link, action: Message, limit: float) -> Message:
        entry = _PendingAction(asyncio.get_running_loop())
        return await self._exchange(link, action, entry, entry.future, limit)

    async def _exchange(
        self,
        link: _Link,
        action: Message,
        entry: _PendingAction | _PendingList,
        answer: asyncio.Future[T],
        limit: float,
    ) -> T:
        """Writes `action` once and waits for `answer`, settled by the reader."""
        action_id = action.action_id
        assert action_id is not None, "actions are built with an ActionID"
        if link.dropped:
            raise AMIConnectionError("the AMI link dropped")
        link.pending[action_id] = entry
        try:
            async with asyncio.timeout(limit):
                link.writer.write(action.encode())
                await link.writer.drain()
                return await answer
        except TimeoutError:
            raise AMITimeoutError(
                f"Asterisk did not answer {action.name} within {limit:g} s"
            ) from None
        except ConnectionError as error:
            raise AMIConnectionError(f"the AMI link failed while sending {action.name}") from error
        finally:
            if link.pending.get(action_id) is entry:
                del link.pending[action_id]
            _read_if_failed(answer)

    # -- the link ---------------------------------------------------------------------------

    async def _open(self) -> _Link:
        """Connects, checks the banner and logs in; the returned link is logged in."""
        where = f"{self._host}:{self._port}"
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(self._host, self._port)
        except TimeoutError:
            raise AMIConnectionError(
                f"cannot reach the AMI at {where}: no connection within {self._connect_timeout:g} s"
            ) from None
        except OSError as error:
            raise AMIConnectionError(f"cannot reach the AMI at {where}: {error}") from error
        loop = asyncio.get_running_loop()
        link = _Link(reader, writer, AMIParser(on_malformed=self._on_malformed), loop.time())
        try:
            async with asyncio.timeout(self._connect_timeout):
                backlog = await self._read_banner(link, where)
                link.reader_task = asyncio.create_task(self._read(link, backlog), name="ami-reader")
                await self._log_in(link)
        except TimeoutError:
            await self._close_link(link, "login timed out")
            raise AMIConnectionError(
                f"the AMI at {where} did not complete the login within {self._connect_timeout:g} s"
            ) from None
        except BaseException as error:
            await self._close_link(link, f"login failed: {error}")
            raise
        return link

    async def _read_banner(self, link: _Link, where: str) -> list[Message]:
        """Reads up to the banner line; returns any frame that came with it."""
        backlog: list[Message] = []
        while link.parser.banner is None:
            data = await link.reader.read(_READ_SIZE)
            if not data:
                raise AMIConnectionError(f"the AMI at {where} closed the connection at once")
            backlog.extend(link.parser.feed(data))
        if not link.parser.banner.startswith(BANNER_PREFIX):
            raise AMIConnectionError(
                f"{where} is not an Asterisk Manager Interface: it greeted with "
                f"{link.parser.banner[:80]!r}"
            )
        return backlog

    async def _log_in(self, link: _Link) -> None:
        login = self._build(
            "Login",
            [
                ("Username", self._username),
                ("Secret", self._secret),
                ("Events", "on" if self._events else "off"),
            ],
        )
        try:
            await self._request(link, login, self._connect_timeout)
        except AMIActionError as refused:
            raise AMILoginError(
                f"Asterisk refused the login of AMI user {self._username!r}: {refused}"
            ) from None
        except AMITimeoutError as error:
            raise AMIConnectionError(str(error)) from None
        link.logged_in = True

    def _activate(self, link: _Link) -> None:
        self._link = link
        self._state = AMIState.CONNECTED
        self._stats.logins += 1
        log.info("ami.connected", host=self._host, port=self._port, banner=link.parser.banner)
        link.keepalive_task = asyncio.create_task(self._keep_alive(link), name="ami-keepalive")
        for handler in tuple(self._connected_handlers):
            task = asyncio.create_task(self._run_connected_handler(handler), name="ami-connected")
            self._handler_tasks.add(task)
            task.add_done_callback(self._handler_tasks.discard)

    async def _keep_link_up(self, link: _Link) -> None:
        """The supervisor: waits for the link to drop, then reconnects."""
        current: _Link | None = link
        while current is not None:
            assert current.reader_task is not None
            await asyncio.wait([current.reader_task])
            await self._close_link(current, "the AMI closed the connection")
            self._state = AMIState.RECONNECTING
            current = await self._reconnect()
            if current is not None:
                self._activate(current)

    async def _reconnect(self) -> _Link | None:
        delays = reconnect_delays(self._reconnect_min_delay, self._reconnect_max_delay)
        attempt = 0
        while True:
            attempt += 1
            delay = next(delays)
            log.info("ami.reconnect.waiting", attempt=attempt, delay=round(delay, 3))
            await asyncio.sleep(delay)
            try:
                link = await self._open()
            except AMILoginError as refused:
                self._state = AMIState.LOGIN_REFUSED
                log.error("ami.reconnect.login_refused", reason=str(refused))
                return None
            except AMIConnectionError as error:
                log.warning("ami.reconnect.failed", attempt=attempt, reason=str(error))
                continue
            self._stats.reconnects += 1
            return link

    async def _read(self, link: _Link, backlog: list[Message]) -> None:
        """Reads and decodes as bytes come, hands urgent events out at once, and queues the
        rest for `_hand_out`, which gives every event to the subscribers in order.

        In one loop, the next read waited until every event of the last one was handed
        out: after a read of 150 events (~10 ms at 400 calls/s) the next one held the calls
        announced meanwhile, and each of them waited for the ones routed before it."""
        reason = "the AMI closed the connection"
        loop = asyncio.get_running_loop()
        inbox: collections.deque[Message] = collections.deque()
        arrived, emptied = asyncio.Event(), asyncio.Event()
        crashed: list[str] = []
        handing_out = asyncio.create_task(
            self._hand_out(link, inbox, arrived, emptied, crashed), name="ami-hand-out"
        )
        try:
            self.read_at = time.perf_counter()
            for message in backlog:
                self._dispatch(link, message)
            stats, feed = self._stats, link.parser.feed
            while not crashed:
                data = await link.reader.read(_READ_SIZE)
                if not data:
                    break
                self.read_at = time.perf_counter()
                link.last_received = loop.time()
                stats.bytes_received += len(data)
                messages = feed(data)
                if self._urgent:
                    self._hand_out_urgent(messages)
                inbox.extend(messages)
                arrived.set()
                if len(inbox) > _INBOX_LIMIT:
                    # The subscribers are behind: read no more until they catch up (the
                    # socket's buffer, then TCP, hold the PBX back meanwhile).
                    await _until_empty(inbox, emptied, handing_out)
            # What came before the end is handed out before the link is dropped.
            await _until_empty(inbox, emptied, handing_out)
        except OSError as error:
            reason = f"the AMI connection failed: {error}"
        except Exception as error:
            # A bug here must not leave the router half-connected: drop and reconnect.
            log.exception("ami.reader.crashed")
            reason = f"the AMI reader crashed: {error!r}"
        finally:
            handing_out.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await handing_out
            self._drop(link, crashed[0] if crashed else reason)

    async def _hand_out(
        self,
        link: _Link,
        inbox: collections.deque[Message],
        arrived: asyncio.Event,
        emptied: asyncio.Event,
        crashed: list[str],
    ) -> None:
        stats, dispatch = self._stats, self._dispatch
        event = MessageKind.EVENT
        clock = _turn_clock
        try:
            while True:
                await arrived.wait()
                arrived.clear()
                count = 0
                turn_ends = clock() + _TURN_SECONDS
                while inbox:
                    message = inbox.popleft()
                    count += 1
                    if message.kind is not event or link.pending:
                        dispatch(link, message)
                    else:
                        # The bulk of the traffic, inlined (bench/ami_parser.py): an event
                        # while no action waits for a list goes straight to the subscribers.
                        stats.events += 1
                        for handler in self._subscribers:
                            try:
                                handler(message)
                            except Exception:
                                stats.handler_errors += 1
                                log.exception("ami.subscriber.failed", ami_event=message.name)
                    if count % _EVENTS_PER_LOOK == 0 and clock() >= turn_ends:
                        # Let the calls these events started be routed, and the next read
                        # be taken, rather than after the last of them.
                        await asyncio.sleep(0)
                        if link.dropped:
                            return
                        turn_ends = clock() + _TURN_SECONDS
                emptied.set()
        except Exception as error:
            log.exception("ami.reader.crashed")
            crashed.append(f"the AMI reader crashed: {error!r}")
            link.writer.transport.abort()  # ends the read under way
        finally:
            emptied.set()  # however it ends, the reader waits for it no more

    def _dispatch(self, link: _Link, message: Message) -> None:
        kind = message.kind
        if kind is MessageKind.EVENT:
            # Looking up the ActionID parses every header: only pay for it while a list waits
            # (not for every Setvar/Redirect in flight: at 200 calls/s one always is).
            if link.pending.lists and self._collect_list_item(link, message):
                return
            self._stats.events += 1
            for handler in self._subscribers:
                try:
                    handler(message)
                except Exception:
                    self._stats.handler_errors += 1
                    log.exception("ami.subscriber.failed", ami_event=message.name)
        elif kind is MessageKind.RESPONSE:
            self._stats.responses += 1
            action_id = message.action_id
            entry = link.pending.get(action_id) if action_id is not None else None
            if action_id is None or entry is None:
                self._stats.unmatched_responses += 1
                log.warning("ami.response.unmatched", action_id=action_id, status=message.name)
                return
            if entry.on_response(message):
                del link.pending[action_id]
        else:
            self._stats.unknown_frames += 1
            log.warning("ami.frame.unknown", first_line=message.lines[0][:200])

    def _collect_list_item(self, link: _Link, message: Message) -> bool:
        action_id = message.action_id
        entry = link.pending.get(action_id) if action_id is not None else None
        if action_id is None or not isinstance(entry, _PendingList) or not entry.started:
            return False
        if message.is_list_complete:
            del link.pending[action_id]
            entry.on_complete(message)
        else:
            self._stats.list_items += 1
            entry.items.append(message)
        return True

    async def _keep_alive(self, link: _Link) -> None:
        """Pings after `ping_interval` of silence; an unanswered Ping means a dead link."""
        loop = asyncio.get_running_loop()
        while not link.dropped:
            silence = loop.time() - link.last_received
            if silence < self._ping_interval:
                await asyncio.sleep(self._ping_interval - silence)
                continue
            try:
                await self._request(link, self._build("Ping", ()), self._action_timeout)
            except AMITimeoutError:
                self._stats.keepalive_failures += 1
                self._drop(link, f"no answer to a keep-alive Ping in {self._action_timeout:g} s")
                return
            except AMIActionError:
                continue  # an answer, even an error, proves the link alive
            except AMIConnectionError:
                return

    def _drop(self, link: _Link, reason: str) -> None:
        """Marks `link` dead at once: pending actions fail, nothing is re-sent."""
        if link.dropped:
            return
        link.dropped = True
        link.fail_pending(AMIConnectionError(f"the AMI link dropped before the answer: {reason}"))
        if link.keepalive_task is not None:
            link.keepalive_task.cancel()
        link.writer.transport.abort()
        if not link.logged_in:
            return
        self._stats.disconnects += 1
        if self._state is AMIState.CLOSED:
            log.info("ami.disconnected", reason=reason)
        else:
            log.warning("ami.disconnected", reason=reason)
        for handler in tuple(self._disconnected_handlers):
            try:
                handler()
            except Exception:
                self._stats.handler_errors += 1
                log.exception("ami.on_disconnected.failed")

    async def _close_link(self, link: _Link, reason: str) -> None:
        self._drop(link, reason)
        tasks = [task for task in link.tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(OSError):
            await link.writer.wait_closed()
        if self._link is link:
            self._link = None

    async def _run_connected_handler(self, handler: Callable[[], Awaitable[None]]) -> None:
        try:
            await handler()
        except AMIError as error:
            log.warning("ami.on_connected.failed", reason=str(error))
        except Exception:
            self._stats.handler_errors += 1
            log.exception("ami.on_connected.crashed")

    def _on_malformed(self, frame: bytes, reason: str) -> None:
        self._stats.malformed_frames += 1
        log.warning("ami.frame.malformed", reason=reason, frame=frame[:200])


def _remove(handlers: list[Any], handler: object) -> None:
    """Unsubscribes `handler`; unsubscribing twice is harmless."""
    with contextlib.suppress(ValueError):
        handlers.remove(handler)


def _read_if_failed(answer: asyncio.Future[Any]) -> None:
    """Marks the failure of an answer as read, once its sender is done with it.

    A sender may leave without awaiting its answer: cancelled, or timed out, while its
    bytes waited in drain(). If the link dropped meanwhile, its answer holds the
    AMIConnectionError that no one will read, which asyncio would report at shutdown
    ("Future exception was never retrieved"). The sender has its own error to give."""
    if answer.done() and not answer.cancelled():
        answer.exception()


def _checked(name: str, headers: Headers) -> list[tuple[str, str]]:
    """The action's headers, refused if one could smuggle a header or an action."""
    items = list(headers.items() if isinstance(headers, Mapping) else headers)
    for key, value in [("Action", name), *items]:
        if key.lower() == "actionid":
            raise ValueError("the AMI client assigns the ActionID itself")
        # Plain `in` tests: a generator over the characters cost more than the rest of
        # building the action (a routed call sends 2-4).
        if "\r" in key or "\n" in key or ":" in key or "\r" in value or "\n" in value:
            # A line break in a value would smuggle extra headers or actions.
            raise ValueError(f"AMI header {key!r} holds a line break or a colon")
    return items


async def _until_empty(
    inbox: collections.deque[Message], emptied: asyncio.Event, handing_out: asyncio.Task[None]
) -> None:
    """Returns once `_hand_out` has handed out everything in `inbox`, or has ended."""
    while inbox and not handing_out.done():
        emptied.clear()
        await emptied.wait()
