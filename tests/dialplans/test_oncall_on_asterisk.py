"""The on-call escalation on a real Asterisk: queuerules.conf and the members' penalties
ring the primary, then the secondary after 30 s, then the manager after 60 s; a voicemail
that answers without the key does not stop it; the key connects; an empty rota offers the
message at once. With callrouter's programming and tracking attached, and with callrouter
stopped once the members are set (issue 10, items 2 and 4).

Opt-in and slow (about 3 minutes of real time: the escalation's own delays). It needs an
Asterisk running dialplans/ with tests/dialplans/asterisk/oncall-phones.conf included, and
an AMI user that may originate and reads every event, given as
CALLROUTER_TEST_ASTERISK=user:secret@host:port. With the kit of ../shared/asterisk:

    bash $K/deploy.sh . tests/dialplans/asterisk/oncall-phones.conf
    bash $K/start.sh
    CALLROUTER_TEST_ASTERISK=tester:tester-secret@127.0.0.1:5038 \\
        .venv/bin/pytest tests/dialplans/test_oncall_on_asterisk.py -s
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import pytest

from callrouter.ami.client import AMIClient
from callrouter.ami.errors import AMIActionError
from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.oncall.escalation import EscalationPolicy
from callrouter.oncall.programming import MemberProgrammer
from callrouter.oncall.roster import Layer, Roster, Rotation, Technician
from callrouter.oncall.tracking import EscalationTracker, StepKind

ADDRESS = os.environ.get("CALLROUTER_TEST_ASTERISK", "")
pytestmark = pytest.mark.skipif(
    not ADDRESS, reason="CALLROUTER_TEST_ASTERISK (user:secret@host:port) is not set"
)

PRIMARY, SECONDARY, MANAGER = (f"Local/070000000{n}@oncall-technician" for n in (1, 2, 3))
NIGHT = datetime(2025, 3, 4, 21, 0, tzinfo=UTC)
DAY = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
ROSTER = Roster(
    HotlineCalendar.default().on_call,
    {
        name: Technician(name, number)
        for name, number in (
            ("Primary", "0700000001"),
            ("Secondary", "0700000002"),
            ("Manager", "0700000003"),
        )
    },
    {
        layer: Rotation((name,), 7, time(8), date(2025, 3, 3))
        for layer, name in (
            (Layer.PRIMARY, "Primary"),
            (Layer.SECONDARY, "Secondary"),
            (Layer.MANAGER, "Manager"),
        )
    },
)
#: The whole chain to the manager's key takes about 75 s.
CHAIN_LASTS = 150.0


@dataclass
class Watch:
    """Events from the call on, with the seconds since the caller joined the queue (or
    was placed, when it never joins)."""

    loop: asyncio.AbstractEventLoop
    caller: str = ""
    started: float = 0.0
    seen: list[tuple[float, Message]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, event: Message) -> None:
        if event.name == "QueueCallerJoin" and event.get("CallerIDNum") == self.caller:
            self.started = self.loop.time()
        self.seen.append((self.loop.time() - self.started, event))
        kind = event.get("UserEvent")
        if event.name == "AgentConnect" or kind == "OnCallUnanswered":
            self.done.set()

    def first(self, name: str, **headers: str) -> float:
        for at, event in self.seen:
            if (event.name == name or event.get("UserEvent") == name) and all(
                event.get(key) == value for key, value in headers.items()
            ):
                return at
        raise AssertionError(f"no {name} {headers} in {[e.name for _, e in self.seen]}")


def _client() -> AMIClient:
    match = re.fullmatch(r"([^:@]+):([^@]*)@([^:]+):(\d+)", ADDRESS)
    assert match, "CALLROUTER_TEST_ASTERISK must be user:secret@host:port"
    user, secret, host, port = match.groups()
    return AMIClient(host, int(port), user, secret)


async def hang_up_test_calls(client: AMIClient) -> None:
    """Ends the test callers and phones: a technician still on a call is busy (ringinuse
    = no) and would not ring for the next test."""
    with contextlib.suppress(AMIActionError):
        await client.send_action("Hangup", (("Channel", "/oncall-test-/"),))


@pytest.fixture
async def eyes() -> AsyncIterator[AMIClient]:
    """The test's own AMI connection: it watches, it is not callrouter."""
    client = _client()
    await client.connect()
    await hang_up_test_calls(client)
    try:
        yield client
    finally:
        await hang_up_test_calls(client)
        await client.close()


async def program(at: datetime) -> None:
    """What callrouter does at a hand-off, on its own connection, then it stops."""
    callrouter = _client()
    await callrouter.connect()

    async def roster() -> Roster:
        return ROSTER

    try:
        await MemberProgrammer(
            callrouter, roster, FakeClock(at), queue="oncall", recheck=60
        ).program()
    finally:
        await callrouter.close()


async def call(eyes: AMIClient, caller: str) -> Watch:
    loop = asyncio.get_running_loop()
    watch = Watch(loop, caller, started=loop.time())
    unsubscribe = eyes.subscribe(watch.on_event)
    try:
        await eyes.send_action(
            "Originate",
            (
                ("Channel", "Local/wait@oncall-test-caller"),
                ("Context", "queue-oncall"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", f"<{caller}>"),
                ("Variable", "HOTLINE_HOLD=hold-" + caller),
                ("Variable", "HOTLINE_CALLER=" + caller),
                ("Async", "true"),
            ),
        )
        await asyncio.wait_for(watch.done.wait(), CHAIN_LASTS)
    finally:
        unsubscribe()
    for at, event in watch.seen:
        fields = {k: event.get(k) for k in ("Interface", "UserEvent", "Technician", "Status")}
        print(f"{at:6.1f}s {event.name} { ({k: v for k, v in fields.items() if v}) }")
    return watch


def assert_escalated_to_the_manager(watch: Watch) -> None:
    assert watch.first("AgentCalled", Interface=PRIMARY) < 2
    secondary = watch.first("AgentCalled", Interface=SECONDARY)
    assert 30 < secondary < 30 + 17 + 2  # the first ring round after 30 s
    # the voicemail answered and pressed nothing: its leg hung up, the queue went on
    assert watch.first("OnCallDeclined", Technician=SECONDARY) > secondary
    manager = watch.first("AgentCalled", Interface=MANAGER)
    assert 60 < manager < 60 + 17 + 2
    confirmed = watch.first("OnCallConfirmed", Technician=MANAGER)
    assert confirmed > manager
    assert watch.first("AgentConnect", Interface=MANAGER) > confirmed


async def test_with_callrouter_running_the_escalation_is_tracked_step_by_step(
    eyes: AMIClient,
) -> None:
    await program(NIGHT)
    tracker = EscalationTracker("oncall", EscalationPolicy())
    steps: list[tuple[StepKind, str | None]] = []
    items = await eyes.send_list_action("QueueStatus", (("Queue", "oncall"),))
    tracker.resync(items, datetime.now(UTC))
    unsubscribe = eyes.subscribe(
        lambda event: steps.extend(
            (step.kind, step.escalation.layer.value)
            for step in tracker.on_event(event, datetime.now(UTC))
        )
    )
    try:
        watch = await call(eyes, "0611000001")
    finally:
        unsubscribe()

    assert_escalated_to_the_manager(watch)
    assert (StepKind.ESCALATED, "secondary") in steps
    assert (StepKind.DECLINED, "secondary") in steps
    assert (StepKind.ESCALATED, "manager") in steps
    assert steps[-2:] == [(StepKind.CONFIRMED, "manager"), (StepKind.CONNECTED, "manager")]


async def test_with_callrouter_stopped_asterisk_escalates_alone(eyes: AMIClient) -> None:
    await program(NIGHT)  # then callrouter is gone: nobody but Asterisk runs the chain

    watch = await call(eyes, "0611000002")

    assert_escalated_to_the_manager(watch)
    confirmed = next(e for _, e in watch.seen if e.get("UserEvent") == "OnCallConfirmed")
    assert confirmed.get("Hold") == "hold-0611000002"


async def test_an_empty_rota_offers_the_message_at_once(eyes: AMIClient) -> None:
    await program(DAY)  # daytime: nobody on call, the queue emptied

    watch = await call(eyes, "0611000003")

    assert watch.first("OnCallUnanswered", Status="JOINEMPTY") < 2
