"""`PBXSimulator`: the simulated PBX behind an AMI TCP port, as Asterisk 22 answers it.

One `Session` per client: banner, Login (wrong secret or unknown user: `Authentication
failed` after `login_failure_delay`, then the socket closes), `Permission denied` before
login, `Events` filtering, Logoff. While a session handles an action, the events that
action causes are held back and written after its response (README of ami-traces: the
Setvar response precedes its VarSet, `Redirect successful` precedes the Newexten).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence

import structlog

from callrouter.ami import AMIParser, Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.actions import ActionHandler, error, response, success
from callrouter.pbxsim.model import PBXModel, Snapshot
from callrouter.pbxsim.scheduler import AsyncioScheduler
from callrouter.pbxsim.settings import CallerProfile, SimulatorSettings

log = structlog.get_logger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_OPEN_ACTIONS = frozenset({"login", "logoff", "challenge"})


class SimulatorNotRunning(RuntimeError):
    """The simulator was asked for calls before `start()` or after `stop()`."""


def _classes(value: str) -> frozenset[str] | None:
    """`Events:`/`EventMask:` value -> privilege classes wanted; None means every event."""
    lowered = value.strip().lower()
    if lowered in ("on", "all", "yes", "true", "1"):
        return None
    if lowered in ("off", "none", "no", "false", "0", ""):
        return frozenset()
    return frozenset(part.strip() for part in lowered.split(","))


class Session:
    def __init__(
        self,
        simulator: PBXSimulator,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self._simulator = simulator
        self._reader = reader
        self._writer = writer
        self._parser = AMIParser(expect_banner=False)
        self.authenticated = False
        self._wanted: frozenset[str] | None = None
        #: Privilege line -> delivered? (the user's read classes and the Events mask)
        self._delivered: dict[str, bool] = {}
        self._held: list[Message] | None = None
        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._out: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None

    def deliver(self, event: Message) -> None:
        if not self.authenticated or self._closing or not self._wants(event):
            return
        if self._held is not None:
            self._held.append(event)
        else:
            self._out.append(event.encode())
            if self._flush_handle is None:
                self._flush_handle = self._loop.call_soon(self._flush)

    def _wants(self, event: Message) -> bool:
        """Simulator events carry `Privilege:` second."""
        lines = event.lines
        privilege = lines[1].removeprefix("Privilege: ") if len(lines) > 1 else ""
        return self.reads(privilege)

    def reads(self, privilege: str) -> bool:
        """Asterisk sends an event only if one of its classes is in the user's `read` and
        in the session's Events mask."""
        delivered = self._delivered.get(privilege)
        if delivered is None:
            classes = {part.strip() for part in privilege.split(",")} - {"all"}
            read = self._simulator.settings.read_classes
            delivered = (
                self.authenticated
                and (read is None or bool(classes & read))
                and (self._wanted is None or bool(classes & self._wanted))
            )
            self._delivered[privilege] = delivered
        return delivered

    def _write(self, messages: Sequence[Message]) -> None:
        """Queue frames for one write at the end of this turn of the event loop: a send()
        per event is what limited the simulator to a few hundred calls per second."""
        if self._writer.is_closing():
            return
        self._out.extend(m.encode() for m in messages)
        if self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        if self._out and not self._writer.is_closing():
            self._writer.write(b"".join(self._out))
        self._out.clear()

    async def run(self) -> None:
        peer = self._writer.get_extra_info("peername")
        log.info("pbxsim.session.open", peer=str(peer))
        self._writer.write(BANNER)
        try:
            while not self._closing:
                data = await self._reader.read(65536)
                if not data:
                    break
                for action in self._parser.feed(data):
                    await self._process(action)
                    if self._closing:
                        break
                await self._writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._closing = True
            if self._flush_handle is not None:
                self._flush_handle.cancel()
            self._flush()
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
            log.info("pbxsim.session.closed", peer=str(peer))

    async def _process(self, action: Message) -> None:
        self._held = []
        try:
            replies = await self._answer(action)
        finally:
            held, self._held = self._held, None
        self._write([*replies, *held])

    async def _answer(self, action: Message) -> list[Message]:
        if action.get("Action") is None:
            return [error(action, "Missing action in request")]
        name = action.name.lower()
        if name == "login":
            return await self._login(action)
        if name == "logoff":
            self._closing = True
            return [response("Goodbye", action, [("Message", "Thanks for all the fish.")])]
        if not self.authenticated and name not in _OPEN_ACTIONS:
            return [error(action, "Permission denied")]
        if name == "events":
            return self._events(action)
        return await self._simulator.actions.handle(action)

    async def _login(self, action: Message) -> list[Message]:
        if self.authenticated:
            return [success(action, "Already authenticated")]
        settings = self._simulator.settings
        if action.get("Username") != settings.username or action.get("Secret") != settings.secret:
            log.warning("pbxsim.session.login_failed", username=action.get("Username"))
            await asyncio.sleep(settings.login_failure_delay)
            self._closing = True
            return [error(action, "Authentication failed")]
        self.authenticated = True
        self._wanted = _classes(action.get("Events") or "on")
        self._delivered.clear()
        replies = [success(action, "Authentication accepted")]
        if self._wants(ev.event("FullyBooted", ev.SYSTEM)):
            uptime = str(int(self._simulator.model.now() - self._simulator.model.started_at))
            replies.append(
                ev.event(
                    "FullyBooted",
                    ev.SYSTEM,
                    [("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")],
                )
            )
        log.info("pbxsim.session.login", username=settings.username)
        return replies

    def _events(self, action: Message) -> list[Message]:
        mask = action.get("EventMask") or "off"
        self._wanted = _classes(mask)
        self._delivered.clear()
        state = "Off" if self._wanted == frozenset() else "On"
        return [response("Success", action, [("Events", state)])]


class PBXSimulator:
    """A simulated Asterisk speaking AMI on `settings.host:settings.port` (0 picks a port)."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self._model: PBXModel | None = None
        self._scheduler: AsyncioScheduler | None = None
        self._server: asyncio.Server | None = None
        self._sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._actions: ActionHandler | None = None
        self._stopping = False

    @property
    def model(self) -> PBXModel:
        if self._model is None:
            raise SimulatorNotRunning("the PBX simulator is not running")
        return self._model

    @property
    def actions(self) -> ActionHandler:
        if self._actions is None:
            raise SimulatorNotRunning("the PBX simulator is not running")
        return self._actions

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise SimulatorNotRunning("the PBX simulator is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._scheduler = AsyncioScheduler(loop, self.settings.time_scale, time.time())
        self._model = PBXModel(self.settings, self._scheduler, random.Random(self.settings.seed))
        self._model.subscribe(self._fan_out)
        self._model.core.wants = self._read_by_a_session
        self._actions = ActionHandler(self._model)
        self._server = await asyncio.start_server(
            self._accept, self.settings.host, self.settings.port
        )
        log.info("pbxsim.listening", host=self.settings.host, port=self.port)

    async def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._scheduler is not None:
            self._scheduler.cancel_all()
        self._model = None
        self._actions = None
        self._stopping = False
        log.info("pbxsim.stopped")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._sessions.add(session)
        try:
            await session.run()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() owns this task and waits for it. Ending it quietly matters: asyncio's
            # stream server (3.11) reports a cancelled connection task as an error with a
            # CancelledError traceback.
        finally:
            self._sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    def _read_by_a_session(self, privilege: str) -> bool:
        return any(session.reads(privilege) for session in self._sessions)

    def _fan_out(self, event: Message) -> None:
        for session in list(self._sessions):
            session.deliver(event)

    def place_call(self, profile: CallerProfile) -> str:
        """An inbound call now; returns the `;2` channel name the router will redirect."""
        return self.model.place_call(profile)

    def start_traffic(self, calls_per_second: float, profiles: Sequence[CallerProfile]) -> None:
        self.model.start_traffic(calls_per_second, profiles)

    def stop_traffic(self) -> None:
        self.model.stop_traffic()

    def snapshot(self) -> Snapshot:
        """Queues (callers in order with priority, members with status/paused/in call) and
        live channels, for comparing with the router's view."""
        return self.model.snapshot()
