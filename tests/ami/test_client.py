"""AMIClient against a small fake Asterisk listening on 127.0.0.1 (answers replayed from the
captured traces where they exist). Waits are on conditions, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from callrouter.ami import (
    AMIActionError,
    AMIClient,
    AMIConnectionError,
    AMILoginError,
    AMIParser,
    AMIState,
    AMITimeoutError,
    Message,
)
from callrouter.ami import client as client_module
from callrouter.ami.client import reconnect_delays

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
SECRET = "hotline-secret"
WAIT = 5.0  # a safety net so that a broken client fails the test instead of hanging it

Responder = Callable[["Session", Message], None]


class Session:
    """One client connection to the fake Asterisk."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def send(self, *messages: Message | bytes) -> None:
        for message in messages:
            self.writer.write(message if isinstance(message, bytes) else message.encode())

    def reply(self, action: Message, status: str = "Success", **headers: str) -> None:
        self.send(
            Message.response(status, [("ActionID", action.action_id or ""), *headers.items()])
        )

    def drop(self) -> None:
        self.writer.transport.abort()


class FakeAMI:
    """Speaks just enough AMI: banner, Login, Ping, Logoff; tests add responders."""

    def __init__(self, port: int = 0, banner: bytes = BANNER) -> None:
        self.port = port
        self.banner = banner
        self.secret = SECRET
        self.connections = 0
        self.actions: list[Message] = []
        self.sessions: list[Session] = []
        self.responders: dict[str, Responder] = {}
        self.changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._serving: set[asyncio.Task[object]] = set()

    async def start(self) -> FakeAMI:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for session in self.sessions:
            session.drop()
        # Each connection's task ends on its dropped link; left pending, the loop's
        # teardown would cancel it and asyncio would log the cancellation as an error.
        if self._serving:
            await asyncio.wait(self._serving, timeout=WAIT)
        await self._server.wait_closed()

    def named(self, name: str) -> list[Message]:
        return [action for action in self.actions if action.name == name]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(predicate)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serving = asyncio.current_task()
        assert serving is not None
        self._serving.add(serving)
        serving.add_done_callback(self._serving.discard)
        session = Session(writer)
        self.sessions.append(session)
        self.connections += 1
        await self._notify()
        writer.write(self.banner)
        parser = AMIParser(expect_banner=False)
        try:
            while data := await reader.read(65536):
                for action in parser.feed(data):
                    self.actions.append(action)
                    self._respond(session, action)
                await self._notify()
        except ConnectionError:
            pass
        finally:
            writer.close()
            await self._notify()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _respond(self, session: Session, action: Message) -> None:
        responder = self.responders.get(action.name)
        if responder is not None:
            responder(session, action)
        elif action.name == "Login":
            if action.get("Secret") == self.secret:
                session.reply(action, Message="Authentication accepted")
                session.send(Message.event("FullyBooted", {"Status": "Fully Booted"}))
            else:
                session.reply(action, "Error", Message="Authentication failed")
                session.writer.close()
        elif action.name == "Ping":
            session.reply(action, Ping="Pong", Timestamp="1795433931.045279")
        elif action.name == "Logoff":
            session.reply(action, "Goodbye", Message="Thanks for all the fish.")
            session.writer.close()
        else:
            session.reply(action)


def trace_answer(traces_dir: Path, name: str, action_id: str, new_id: str) -> list[Message]:
    """Every message of a transcript tagged `action_id`, re-tagged for another action."""
    messages = AMIParser().feed((traces_dir / f"{name}.ami").read_bytes())
    return [
        Message(
            [
                f"ActionID: {new_id}" if line == f"ActionID: {action_id}" else line
                for line in m.lines
            ]
        )
        for m in messages
        if m.action_id == action_id
    ]


def client_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ami-") and not t.done()]


async def until(predicate: Callable[[], bool]) -> None:
    """Waits for a state of the client that no event of the fake server reveals."""
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.001)


@pytest.fixture
async def server() -> AsyncIterator[FakeAMI]:
    fake = await FakeAMI().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def make_client(server: FakeAMI) -> AsyncIterator[Callable[..., AMIClient]]:
    clients: list[AMIClient] = []

    def make(**options: object) -> AMIClient:
        settings: dict[str, object] = {
            "secret": SECRET,
            "ping_interval": 60.0,
            "action_timeout": 2.0,
            "connect_timeout": 2.0,
            "reconnect_min_delay": 0.01,
            "reconnect_max_delay": 0.05,
        }
        settings.update(options)
        secret = str(settings.pop("secret"))
        client = AMIClient("127.0.0.1", server.port, "hotline", secret, **settings)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
    assert client_tasks() == []


async def test_login(server: FakeAMI, make_client: Callable[..., AMIClient]) -> None:
    client = make_client()
    logins: asyncio.Queue[None] = asyncio.Queue()

    async def connected() -> None:
        await logins.put(None)

    client.on_connected(connected)
    await client.connect()
    async with asyncio.timeout(WAIT):
        await logins.get()

    assert client.connected
    assert client.state is AMIState.CONNECTED
    [login] = server.named("Login")
    assert login.get("Username") == "hotline"
    assert login.get("Secret") == SECRET
    assert login.get("Events") == "on"
    assert login.action_id
    assert client.stats.logins == 1
    await client.close()
    assert not client.connected
    assert client.state is AMIState.CLOSED


async def test_login_without_events(server: FakeAMI, make_client: Callable[..., AMIClient]) -> None:
    client = make_client(events=False)
    await client.connect()

    assert server.named("Login")[0].get("Events") == "off"
    await client.close()


async def test_refused_login_is_final(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client(secret="wrong-secret")

    with pytest.raises(AMILoginError, match=r"'hotline'.*Authentication failed"):
        await client.connect()

    assert server.connections == 1
    assert client.state is AMIState.LOGIN_REFUSED
    assert not client.connected
    assert client_tasks() == []
    with pytest.raises(AMIConnectionError):
        await client.send_action("Ping")


async def test_refused_relogin_stops_reconnecting(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client()
    await client.connect()
    server.secret = "rotated"
    with capture_logs() as logs:
        server.sessions[0].drop()
        await until(lambda: client.state is AMIState.LOGIN_REFUSED)
        await until(lambda: client_tasks() == [])

    assert server.connections == 2
    assert not client.connected
    assert any(log["event"] == "ami.reconnect.login_refused" for log in logs)
    await client.close()


async def test_unreachable_pbx(make_client: Callable[..., AMIClient]) -> None:
    closed = await FakeAMI().start()
    await closed.stop()
    client = AMIClient("127.0.0.1", closed.port, "hotline", SECRET, connect_timeout=2.0)

    with pytest.raises(AMIConnectionError, match=f"127.0.0.1:{closed.port}"):
        await client.connect()

    assert client.state is AMIState.IDLE
    assert client_tasks() == []


async def test_connect_again_once_the_pbx_is_up() -> None:
    # The router starts before Asterisk and retries its first connect().
    pbx = await FakeAMI().start()
    await pbx.stop()
    client = AMIClient("127.0.0.1", pbx.port, "hotline", SECRET, connect_timeout=2.0)
    with pytest.raises(AMIConnectionError):
        await client.connect()

    started = await FakeAMI(port=pbx.port).start()
    try:
        await client.connect()
        assert client.connected
        assert (await client.send_action("Ping")).get("Ping") == "Pong"
    finally:
        await client.close()
        await started.stop()
    assert client_tasks() == []


async def test_not_an_asterisk_banner() -> None:
    http = await FakeAMI(banner=b"HTTP/1.1 400 Bad Request\r\n\r\n").start()
    client = AMIClient("127.0.0.1", http.port, "hotline", SECRET, connect_timeout=2.0)
    try:
        with pytest.raises(AMIConnectionError, match="not an Asterisk Manager Interface"):
            await client.connect()
        assert http.named("Login") == []
    finally:
        await http.stop()


async def test_pipelined_actions_are_matched_by_action_id(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    held: list[tuple[Session, Message]] = []

    def getvar(session: Session, action: Message) -> None:
        held.append((session, action))
        if len(held) == 20:
            # All twenty are in flight at once; answer them backwards.
            for waiting_session, waiting in reversed(held):
                waiting_session.reply(
                    waiting, Variable=waiting["Variable"], Value=f"value of {waiting['Variable']}"
                )

    server.responders["Getvar"] = getvar
    client = make_client()
    await client.connect()

    answers = await asyncio.gather(
        *(client.send_action("Getvar", {"Variable": f"VAR{i}"}) for i in range(20))
    )

    assert [a.get("Value") for a in answers] == [f"value of VAR{i}" for i in range(20)]
    action_ids = [a.action_id for a in server.named("Getvar")]
    assert len(set(action_ids)) == 20
    await client.close()


async def test_actions_sent_together_leave_in_one_write_and_answer_in_order(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    # Setvar + Redirect of a caller who hung up meanwhile, as in 07-errors: the Setvar
    # fails, the Redirect is still answered; each answer stays with its action.
    server.responders["Setvar"] = lambda session, action: session.reply(
        action, "Error", Message="No such channel"
    )
    client = make_client()
    await client.connect()
    reads_before = client.stats.bytes_received
    channel = "Local/0612345678@hotline-00000000;2"
    sending = asyncio.ensure_future(
        client.send_actions(
            [
                ("Setvar", [("Channel", channel), ("Variable", "QUEUE_PRIO"), ("Value", "10")]),
                ("Redirect", [("Channel", channel), ("Context", "queue-coordinators")]),
            ]
        )
    )
    setvar_error, redirect_answer = await sending

    assert isinstance(setvar_error, AMIActionError)
    assert str(setvar_error) == "No such channel"
    assert isinstance(redirect_answer, Message) and redirect_answer.name == "Success"
    assert [a.name for a in server.actions[-2:]] == ["Setvar", "Redirect"]
    assert server.actions[-1]["Context"] == "queue-coordinators"
    assert client.stats.bytes_received > reads_before
    await client.close()


async def test_an_action_unanswered_when_the_link_drops_fails_alone(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    server.responders["Redirect"] = lambda session, action: session.drop()
    client = make_client()
    await client.connect()
    answers = await client.send_actions(
        [("Setvar", [("Variable", "A"), ("Value", "1")]), ("Redirect", [])]
    )
    # The Setvar was answered before the drop; the Redirect fails and is never re-sent.
    assert [type(answer) for answer in answers] == [Message, AMIConnectionError]
    assert len(server.named("Redirect")) == 1
    await client.close()


async def test_error_response_raises_with_its_message(
    server: FakeAMI, make_client: Callable[..., AMIClient], traces_dir: Path
) -> None:
    server.responders["QueueAdd"] = lambda session, action: session.send(
        *trace_answer(traces_dir, "06-queue-member-mgmt", "a-004", action["ActionID"])
    )
    client = make_client()
    await client.connect()

    with pytest.raises(AMIActionError) as raised:
        await client.send_action(
            "QueueAdd", {"Queue": "oncall", "Interface": "Local/agent9@agents"}
        )

    assert str(raised.value) == "Unable to add interface: Already there"
    assert raised.value.response.is_error
    assert client.connected
    await client.close()


async def test_list_action_returns_its_items(
    server: FakeAMI, make_client: Callable[..., AMIClient], traces_dir: Path
) -> None:
    between = Message.event("Newexten", {"Channel": "Local/0611111111@hotline-00000000;2"})

    def queue_status(session: Session, action: Message) -> None:
        start, *items = trace_answer(
            traces_dir, "03-priority-queue-experts", "a-010", action["ActionID"]
        )
        # An unrelated event arrives in the middle of the list.
        session.send(start, *items[:2], between, *items[2:])

    server.responders["QueueStatus"] = queue_status
    client = make_client()
    received: list[Message] = []
    client.subscribe(received.append)
    await client.connect()

    items = await client.send_list_action("QueueStatus", {"Queue": "experts"})

    assert [m.name for m in items] == [
        "QueueParams",
        "QueueMember",
        "QueueMember",
        "QueueEntry",
        "QueueEntry",
    ]
    assert items[3].get("CallerIDName") == "Bernard VIP"
    assert items[3].get("Priority") == "10"
    assert [m.name for m in received] == ["FullyBooted", "Newexten"]
    assert client.stats.list_items == 5
    await client.close()


async def test_empty_list(
    server: FakeAMI, make_client: Callable[..., AMIClient], traces_dir: Path
) -> None:
    server.responders["QueueStatus"] = lambda session, action: session.send(
        *trace_answer(traces_dir, "07-errors", "a-015", action["ActionID"])
    )
    client = make_client()
    received: list[Message] = []
    client.subscribe(received.append)
    await client.connect()

    assert await client.send_list_action("QueueStatus", {"Queue": "nosuchqueue"}) == []
    assert [m.name for m in received] == ["FullyBooted"]
    await client.close()


async def test_list_action_refused(server: FakeAMI, make_client: Callable[..., AMIClient]) -> None:
    server.responders["Status"] = lambda session, action: session.reply(
        action, "Error", Message="No such channel"
    )
    client = make_client()
    await client.connect()

    with pytest.raises(AMIActionError, match="No such channel"):
        await client.send_list_action("Status", {"Channel": "Local/x@y-00000000;1"})
    await client.close()


async def test_originate_response_and_echoed_events_go_to_subscribers(
    server: FakeAMI, make_client: Callable[..., AMIClient], traces_dir: Path
) -> None:
    def originate(session: Session, action: Message) -> None:
        [outcome] = [
            m
            for m in trace_answer(traces_dir, "05-originate-callback", "a-006", action["ActionID"])
            if m.name == "OriginateResponse"
        ]
        # Sent before the response: it must not be mistaken for it.
        session.send(outcome)
        session.reply(action, Message="Originate successfully queued")

    def user_event(session: Session, action: Message) -> None:
        session.reply(action, Message="Event Sent")
        session.send(
            Message.event(
                "UserEvent",
                [
                    ("Privilege", "user,all"),
                    ("UserEvent", action["UserEvent"]),
                    ("ActionID", action["ActionID"]),
                ],
            )
        )

    server.responders["Originate"] = originate
    server.responders["UserEvent"] = user_event
    client = make_client()
    received: list[Message] = []
    client.subscribe(received.append)
    await client.connect()

    queued = await client.send_action("Originate", {"Channel": "Local/busy@agents"})
    sent = await client.send_action("UserEvent", {"UserEvent": "RouterHeartbeat"})
    await client.send_action("Ping")  # the echo precedes this answer on the wire

    assert queued.get("Message") == "Originate successfully queued"
    assert sent.get("Message") == "Event Sent"
    outcomes = [m for m in received if m.name == "OriginateResponse"]
    assert [(m.get("Response"), m.get("Reason"), m.action_id) for m in outcomes] == [
        ("Failure", "5", queued.action_id)
    ]
    echoes = [m for m in received if m.name == "UserEvent"]
    assert [m.action_id for m in echoes] == [sent.action_id]
    await client.close()


async def test_timeout_then_the_late_answer_is_ignored(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    late: list[tuple[Session, Message]] = []
    server.responders["Getvar"] = lambda session, action: late.append((session, action))
    client = make_client()
    await client.connect()

    with pytest.raises(AMITimeoutError, match="Getvar"):
        await client.send_action("Getvar", {"Variable": "X"}, timeout=0.05)
    await server.wait_for(lambda: bool(late))
    session, action = late[0]
    session.reply(action, Variable="X", Value="too late")
    answer = await client.send_action("Ping")

    assert answer.get("Ping") == "Pong"
    assert client.connected
    assert client.stats.unmatched_responses == 1
    await client.close()


async def test_keepalive_pings_on_silence(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client(ping_interval=0.05)
    await client.connect()

    await server.wait_for(lambda: len(server.named("Ping")) >= 2)

    assert client.connected
    assert server.connections == 1
    await client.close()


async def test_unanswered_keepalive_reconnects(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    server.responders["Ping"] = lambda session, action: None
    client = make_client(ping_interval=0.05, action_timeout=0.1)
    await client.connect()

    await server.wait_for(lambda: server.connections == 2)
    await until(lambda: client.connected)

    assert client.stats.keepalive_failures >= 1
    assert client.stats.reconnects >= 1
    await client.close()


async def test_drop_fails_the_pending_action_which_is_never_resent(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    server.responders["Originate"] = lambda session, action: session.drop()
    client = make_client()
    logins: asyncio.Queue[None] = asyncio.Queue()
    drops: list[None] = []

    async def connected() -> None:
        await logins.put(None)

    client.on_connected(connected)
    client.on_disconnected(lambda: drops.append(None))
    await client.connect()
    async with asyncio.timeout(WAIT):
        await logins.get()

    with pytest.raises(AMIConnectionError):
        await client.send_action("Originate", {"Channel": "Local/agent1@agents"})
    async with asyncio.timeout(WAIT):
        await logins.get()  # on_connected runs again after the reconnect
    await client.send_action("Ping")  # a full round trip on the new link

    assert len(server.named("Originate")) == 1
    assert server.connections == 2
    assert len(server.named("Login")) == 2
    assert drops == [None]
    assert client.stats.reconnects == 1
    await client.close()


async def test_pbx_restart_on_the_same_port(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client()
    logins: asyncio.Queue[None] = asyncio.Queue()

    async def connected() -> None:
        await logins.put(None)

    client.on_connected(connected)
    await client.connect()
    async with asyncio.timeout(WAIT):
        await logins.get()

    with capture_logs() as logs:
        await server.stop()
        await until(lambda: sum(log["event"] == "ami.reconnect.failed" for log in logs) >= 2)
        assert not client.connected
        restarted = await FakeAMI(port=server.port).start()
        try:
            async with asyncio.timeout(WAIT):
                await logins.get()
            answer = await client.send_action("Ping")
        finally:
            await client.close()
            await restarted.stop()

    assert answer.get("Ping") == "Pong"
    assert restarted.named("Login")
    assert client.stats.reconnects == 1


async def test_pending_actions_fail_when_the_link_is_down(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client()

    with pytest.raises(AMIConnectionError, match="not connected"):
        await client.send_action("Ping")


async def test_bad_headers_are_refused_before_sending(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client()
    await client.connect()

    with pytest.raises(ValueError, match="ActionID"):
        await client.send_action("Ping", {"ActionID": "mine"})
    with pytest.raises(ValueError, match="line break"):
        await client.send_action("Setvar", {"Variable": "X", "Value": "1\r\n\r\nAction: Hangup"})
    for bad in ({"Value": "1\nAction: Hangup"}, {"Value": "1\r"}, {"Va\nlue": "1"}, {"V:": "1"}):
        with pytest.raises(ValueError, match="line break or a colon"):
            await client.send_action("Setvar", bad)
    await client.send_action("Ping")

    assert [a.name for a in server.actions] == ["Login", "Ping"]
    await client.close()


async def test_malformed_and_unknown_frames_are_skipped(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    def command(session: Session, action: Message) -> None:
        session.send(b"garbage without a colon\r\n\r\n", b"Foo: bar\r\n\r\n")
        session.reply(action, Message="Command output follows", Output="ok")

    server.responders["Command"] = command
    client = make_client()
    await client.connect()

    answer = await client.send_action("Command", {"Command": "core show uptime"})

    assert answer.getall("Output") == ["ok"]
    assert client.connected
    assert client.stats.malformed_frames == 1
    assert client.stats.unknown_frames == 1
    assert server.connections == 1
    await client.close()


async def test_a_failing_subscriber_does_not_stop_the_others(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    client = make_client()
    received: list[str] = []

    def broken(message: Message) -> None:
        raise RuntimeError("bug in a subscriber")

    client.subscribe(broken)
    unsubscribe = client.subscribe(lambda message: received.append(message.name))
    await client.connect()
    server.sessions[0].send(Message.event("QueueCallerJoin", {"Queue": "experts"}))
    await client.send_action("Ping")
    unsubscribe()
    server.sessions[0].send(Message.event("QueueCallerLeave", {"Queue": "experts"}))
    await client.send_action("Ping")

    assert received == ["FullyBooted", "QueueCallerJoin"]
    assert client.stats.handler_errors == 3
    assert client.connected
    await client.close()


async def test_a_burst_of_events_lets_the_work_they_start_run_before_its_end(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    # A router descheduled for a while reads hundreds of events at once: a call announced
    # at the start of the burst is routed while the rest is delivered, not after it.
    client = make_client()
    received: list[int] = []
    routed_after: list[int] = []
    tasks: list[asyncio.Task[None]] = []

    async def route() -> None:
        routed_after.append(len(received))

    def on_event(message: Message) -> None:
        if message.name == "UserEvent":
            received.append(int(message["Seq"]))
            if message["Seq"] == "0":
                tasks.append(asyncio.get_running_loop().create_task(route()))

    client.subscribe(on_event)
    await client.connect()
    burst = 500
    server.sessions[0].send(
        b"".join(
            Message.event("UserEvent", {"UserEvent": "Burst", "Seq": str(n)}).encode()
            for n in range(burst)
        )
    )
    await client.send_action("Ping")
    await asyncio.gather(*tasks)

    assert received == list(range(burst))
    assert routed_after and routed_after[0] < burst
    await client.close()


async def test_close_stops_everything(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    server.responders["Originate"] = lambda session, action: None
    client = make_client(ping_interval=0.05)
    started = asyncio.Event()
    drops: list[None] = []

    async def slow_rebuild() -> None:
        started.set()
        await asyncio.Event().wait()

    client.on_connected(slow_rebuild)
    client.on_disconnected(lambda: drops.append(None))
    await client.connect()
    async with asyncio.timeout(WAIT):
        await started.wait()
    pending = asyncio.create_task(client.send_action("Originate", {"Channel": "Local/a@b"}))
    await server.wait_for(lambda: bool(server.named("Originate")))

    await client.close()

    with pytest.raises(AMIConnectionError):
        await pending
    assert client_tasks() == []
    assert server.named("Logoff")
    assert drops == [None]
    assert not client.connected
    await client.close()  # closing twice is harmless


def test_reconnect_delays_double_up_to_the_maximum() -> None:
    delays = reconnect_delays(0.5, 30.0, random.Random(7))
    waits = [next(delays) for _ in range(12)]

    steps = [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30]
    for wait, step in zip(waits, steps, strict=True):
        assert step <= wait <= min(30.0, step * 1.5)
    assert len(set(waits[:6])) == 6  # jittered


def test_reconnect_delays_reject_bad_bounds() -> None:
    with pytest.raises(ValueError):
        next(reconnect_delays(0, 1))
    with pytest.raises(ValueError):
        AMIClient("127.0.0.1", 5038, "u", "s", reconnect_min_delay=5, reconnect_max_delay=1)


async def test_subscribers_know_when_the_bytes_of_their_event_were_read(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    # The router's latency counts from the read, not from when its turn came in the burst.
    import time

    client = make_client()
    seen: list[tuple[str, float]] = []
    client.subscribe(lambda message: seen.append((message.name, client.read_at)))
    await client.connect()
    await client.send_action("Ping")
    before = time.perf_counter()
    burst = [Message.event("Newexten", {"Priority": str(i)}) for i in range(300)]
    server.sessions[0].send(b"".join(event.encode() for event in burst))
    await client.send_action("Ping")
    stamps = [at for name, at in seen if name == "Newexten"]
    assert len(stamps) == 300
    # Stamped when read (one stamp per read, whatever their place in it), after the send.
    assert all(before < at <= time.perf_counter() for at in stamps)
    assert len(set(stamps)) < len(stamps)
    await client.close()


async def test_an_urgent_event_is_handed_out_before_the_events_read_with_it(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    # A call waiting for its Redirect does not wait for the hundred events that came in the
    # same read; every subscriber still gets every event in order.
    client = make_client()
    order: list[str] = []
    client.subscribe(lambda message: order.append(f"{message.name} {message.get('N')}"))
    client.subscribe_urgent("UserEvent", lambda message: order.append(f"urgent {message.get('N')}"))
    await client.connect()
    await client.send_action("Ping")
    order.clear()
    read = [Message.event("Newexten", {"N": str(i)}) for i in range(100)]
    read.insert(90, Message.event("UserEvent", {"UserEvent": "HotlineCall", "N": "call"}))
    server.sessions[0].send(b"".join(event.encode() for event in read))
    await client.send_action("Ping")
    assert order[0] == "urgent call"
    assert order[1:] == [f"{event.name} {event.get('N')}" for event in read]
    assert order.count("urgent call") == 1
    await client.close()


async def test_the_next_read_is_taken_while_a_long_one_is_still_handed_out(
    server: FakeAMI, make_client: Callable[..., AMIClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A call announced while the subscribers are busy with a read of a thousand events is
    # handed out urgently within a few of their turns, not after the thousandth. Each
    # event takes the subscribers 50 us (a clock of the test's own).
    client = make_client()
    in_order: list[str] = []
    urgent_after: list[int] = []
    spent = [0.0]
    monkeypatch.setattr(client_module, "_turn_clock", lambda: spent[0])

    def subscriber(message: Message) -> None:
        spent[0] += 50e-6
        in_order.append(message.get("N") or "")
        if message.get("N") == "10":
            # The PBX announces a call while the burst is being handed out.
            server.sessions[0].send(
                Message.event("UserEvent", {"UserEvent": "HotlineCall", "N": "call"})
            )

    client.subscribe(subscriber)
    client.subscribe_urgent("UserEvent", lambda message: urgent_after.append(len(in_order)))
    await client.connect()
    await client.send_action("Ping")
    in_order.clear()
    burst = [Message.event("Newexten", {"N": str(i)}) for i in range(1000)]
    server.sessions[0].send(b"".join(event.encode() for event in burst))
    await until(lambda: "call" in in_order)
    [handed_out_at] = urgent_after
    assert handed_out_at < 500
    # Every event still reaches the subscribers, in the order read.
    assert in_order == [str(i) for i in range(1000)] + ["call"]
    await client.close()


@contextlib.contextmanager
def unread_exceptions() -> Iterator[list[str]]:
    """What the event loop reports, at the garbage collection that ends the block, of the
    futures whose exception nobody read ("Future exception was never retrieved")."""
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(
        lambda _, context: reported.append(f"{context['message']}: {context.get('exception')!r}")
    )
    try:
        yield reported
        gc.collect()
    finally:
        loop.set_exception_handler(previous)


async def test_actions_left_in_drain_when_the_link_drops_leave_no_unread_exception(
    server: FakeAMI, make_client: Callable[..., AMIClient]
) -> None:
    # The PBX reads no more (a busy simulator at the end of a bench): the actions wait in
    # drain(), the keep-alive's Ping goes unanswered and the link is dropped, failing them.
    # Their senders are cancelled in the same turn (here by a disconnect handler; at
    # shutdown by the router stopping its calls): they never read those failures.
    def stop_reading(session: Session, action: Message) -> None:
        session.reply(action)
        session.writer.transport.pause_reading()

    server.responders["Hold"] = stop_reading
    client = make_client(ping_interval=0.05, action_timeout=0.2)

    async def cancelled_while_writing() -> None:
        await client.connect()
        await client.send_action("Hold")
        # Far more than the socket buffers hold while nobody reads.
        bulk = {"Variable": "BULK", "Value": "x" * 32_000_000}
        senders = [
            asyncio.create_task(client.send_actions([("Setvar", bulk)] * 2, timeout=WAIT)),
            asyncio.create_task(client.send_action("Setvar", bulk, timeout=WAIT)),
        ]
        client.on_disconnected(lambda: [sender.cancel() for sender in senders])
        for sender in senders:
            with pytest.raises(asyncio.CancelledError):
                await sender
        await client.close()

    with unread_exceptions() as reported:
        await cancelled_while_writing()
    assert reported == []
