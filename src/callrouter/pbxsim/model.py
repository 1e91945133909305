"""The simulated PBX: our hotline dialplan, app_queue and the lab's agents and customers.

Plain synchronous Python on a `Scheduler`: every change emits AMI events (as `Message`s) to
the subscribed sinks, in the order the Asterisk 22 traces show them. The TCP side
(`server.py`) and tests both drive it; tests can run it on virtual time.

Inbound calls follow the PBX <-> router contract: the `;2` half announces itself with
`UserEvent(HotlineCall)`, waits `router_wait` for a Redirect, else emits
`UserEvent(HotlineFailsafe)` and queues itself to `coordinators`.
"""

from __future__ import annotations

import enum
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import structlog

from callrouter.ami import Message
from callrouter.pbxsim import events as ev
from callrouter.pbxsim.channels import Channel, ChannelFactory, ChannelState, HangupCause
from callrouter.pbxsim.queues import Member, MemberStatus, Queue, QueueEntry
from callrouter.pbxsim.scheduler import Scheduler, Timer
from callrouter.pbxsim.settings import CallerProfile, SimulatorSettings

log = structlog.get_logger(__name__)

EventSink = Callable[[Message], None]

#: The dialplan lets a caller type account + PIN this many times, then refuses the call.
MAX_PIN_ATTEMPTS = 3

_LOCAL = re.compile(r"^Local/(?P<exten>[^@/]+)@(?P<context>[^/]+)(?:/\w+)?$")
# [agents] matches _age[n]t. : "agent" followed by at least one character.
_AGENT_EXTEN = re.compile(r"^agent.+$")
_NEVER_ANSWERS = re.compile(r"^0699\d{6}$")
_ALWAYS_BUSY = re.compile(r"^0698\d{6}$")
_DIGITS = re.compile(r"^\d+$")
_CALLER_ID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')


class Stage(enum.Enum):
    IVR = "ivr"
    WAITING_ROUTER = "waiting_router"
    QUEUED = "queued"
    CONNECTED = "connected"
    MESSAGE = "message"
    GONE = "gone"


class Outcome(enum.Enum):
    ANSWER = "answer"
    NEVER = "never"
    BUSY = "busy"
    INVALID = "invalid"


@dataclass(eq=False)
class InboundCall:
    handset: Channel
    leg: Channel
    profile: CallerProfile
    arrival: float
    #: Traffic callers give up after `patience` in queue and talk `talk_time`; callers
    #: originated over AMI with `Application=Wait` hang up when their Wait ends instead.
    patient: bool
    attempt: int = 1
    stage: Stage = Stage.IVR
    queue: Queue | None = None
    entry: QueueEntry | None = None
    offers: list[AgentOffer] = field(default_factory=list)
    connection: AgentOffer | None = None
    step: Timer | None = None
    patience: Timer | None = None
    talk: Timer | None = None
    handset_timer: Timer | None = None


@dataclass(eq=False)
class AgentOffer:
    """app_queue ringing one member for one caller (a `Local/agentN@agents` pair)."""

    call: InboundCall
    queue: Queue
    member: Member
    one: Channel
    two: Channel
    started: float
    timer: Timer | None = None
    answered_at: float = 0.0
    holdtime: float = 0.0
    bridge_id: str = ""


@dataclass(frozen=True)
class OriginateRequest:
    channel: str
    context: str = ""
    exten: str = ""
    application: str = ""
    data: str = ""
    caller_id: str = ""
    timeout: float = 30.0
    variables: tuple[tuple[str, str], ...] = ()
    action_id: str | None = None
    asynchronous: bool = True


@dataclass(eq=False)
class OutboundCall:
    """An AMI Originate towards `agents` or `customers` (callbacks and appointment calls)."""

    request: OriginateRequest
    on_result: Callable[[bool], None] | None
    interface: str
    one: Channel
    two: Channel
    answered: bool = False
    holds_device: bool = False
    customer: tuple[Channel, Channel] | None = None
    bridge_id: str = ""
    timer: Timer | None = None


class CallerView(TypedDict):
    channel: str
    uniqueid: str
    caller_id: str
    priority: int
    wait: float


class MemberView(TypedDict):
    interface: str
    name: str
    paused: bool
    paused_reason: str
    status: int
    in_call: bool
    calls_taken: int


class QueueView(TypedDict):
    strategy: str
    callers: list[CallerView]
    members: list[MemberView]
    completed: int
    abandoned: int


class Snapshot(TypedDict):
    queues: dict[str, QueueView]
    channels: list[str]
    calls_placed: int


def parse_caller_id(raw: str) -> tuple[str, str]:
    """`"Jean Dupont" <0612345678>` -> ("0612345678", "Jean Dupont")."""
    match = _CALLER_ID.match(raw)
    if match is None:
        return raw.strip(), ""
    return match["number"].strip(), match["name"].strip()


Owner = InboundCall | AgentOffer | OutboundCall


class PBXModel:
    def __init__(
        self, settings: SimulatorSettings, scheduler: Scheduler, rng: random.Random | None = None
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler
        self.rng = rng or random.Random(settings.seed)
        self.started_at = scheduler.now()
        self.channels: dict[str, Channel] = {}
        self.queues: dict[str, Queue] = {}
        for name, members in settings.queues.items():
            queue = Queue(name, ringall=name in settings.ringall_queues)
            queue.members = [Member(i, n, self.started_at) for i, n in members]
            self.queues[name] = queue
        self.globals: dict[str, str] = {}
        self.calls_placed = 0
        self._factory = ChannelFactory()
        self._owners: dict[str, Owner] = {}
        self._device_use: dict[str, int] = {}
        self._in_call: set[str] = set()
        self._sinks: list[EventSink] = []
        self._retry_pending: set[str] = set()
        self._traffic: Timer | None = None

    # ------------------------------------------------------------------ plumbing

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def emit(self, message: Message) -> None:
        """Send one event to every subscriber (the model's own events, and AMI UserEvents)."""
        for sink in list(self._sinks):
            sink(message)

    def now(self) -> float:
        return self.scheduler.now()

    def _later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.scheduler.call_later(delay, callback)

    def _uniform(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds)

    def _new_pair(self, exten: str, context: str, linkedid: str | None) -> tuple[Channel, Channel]:
        one, two = self._factory.local_pair(exten, context, self.now(), linkedid)
        for channel in (one, two):
            self.channels[channel.name] = channel
        return one, two

    def _own(self, owner: Owner, *channels: Channel) -> None:
        for channel in channels:
            self._owners[channel.name] = owner

    def _hangup(self, channel: Channel, cause: HangupCause) -> None:
        if self.channels.pop(channel.name, None) is None:
            return
        self._owners.pop(channel.name, None)
        self.emit(ev.hangup(channel, cause))

    def _new_bridge_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _bridge(self, first: Channel, second: Channel) -> str:
        bridge_id = self._new_bridge_id()
        self.emit(ev.bridge_event("BridgeCreate", bridge_id, 0))
        for count, channel in enumerate((first, second), start=1):
            channel.bridge_id = bridge_id
            self.emit(ev.bridge_event("BridgeEnter", bridge_id, count, channel))
        return bridge_id

    def _leave_bridge(self, channel: Channel, remaining: int) -> None:
        self.emit(ev.bridge_event("BridgeLeave", channel.bridge_id, remaining, channel))
        channel.bridge_id = ""

    @staticmethod
    def _cancel(*timers: Timer | None) -> None:
        for timer in timers:
            if timer is not None:
                timer.cancel()

    # ------------------------------------------------------------------ devices and members

    def member_status(self, interface: str) -> int:
        return MemberStatus.INUSE if self._device_use.get(interface) else MemberStatus.NOT_INUSE

    def in_call(self, interface: str) -> bool:
        return interface in self._in_call

    def _member_event(self, name: str, queue: Queue, member: Member) -> None:
        status = self.member_status(member.interface)
        headers = [("Queue", queue.name), *member.headers(status, list_item=False)]
        self.emit(ev.event(name, ev.AGENT, headers))

    def _memberships(self, interface: str) -> list[tuple[Queue, Member]]:
        found = []
        for queue in self.queues.values():
            member = queue.member(interface)
            if member is not None:
                found.append((queue, member))
        return found

    def _device_up(self, interface: str) -> None:
        self._device_use[interface] = self._device_use.get(interface, 0) + 1
        if self._device_use[interface] == 1:
            for queue, member in self._memberships(interface):
                self._member_event("QueueMemberStatus", queue, member)

    def _device_down(self, interface: str) -> None:
        left = self._device_use.get(interface, 0) - 1
        if left > 0:
            self._device_use[interface] = left
            return
        self._device_use.pop(interface, None)
        for queue, member in self._memberships(interface):
            self._member_event("QueueMemberStatus", queue, member)
        self._later(0.0, self._dispatch_all)

    def _available(self, member: Member) -> bool:
        if member.paused:
            return False
        return member.ringinuse or not self._device_use.get(member.interface)

    # ------------------------------------------------------------------ inbound calls

    def place_call(self, profile: CallerProfile) -> str:
        """A caller dials the hotline now; returns the `;2` channel the router will redirect."""
        call = self._start_inbound(profile, originate=None)
        return call.leg.name

    def _start_inbound(
        self, profile: CallerProfile, originate: OriginateRequest | None
    ) -> InboundCall:
        self.calls_placed += 1
        exten = profile.caller_id
        handset, leg = self._new_pair(exten, "hotline", None)
        patient = originate is None or not _wait_seconds(originate)
        call = InboundCall(handset, leg, profile, self.now(), patient)
        self._own(call, handset, leg)
        self.emit(ev.channel_event("Newchannel", ev.CALL, handset))
        self.emit(ev.channel_event("Newchannel", ev.CALL, leg))
        for channel in (handset, leg):
            channel.set_caller(profile.caller_id, profile.name)
            channel.set_connected(profile.caller_id, profile.name)
        self.emit(
            ev.dial_event("DialBegin", ev.CALL, None, handset, [("DialString", f"{exten}@hotline")])
        )
        leg.state, leg.priority = ChannelState.UP, 3
        self.emit(ev.channel_event("Newstate", ev.CALL, leg))
        handset.state = ChannelState.UP
        self.emit(ev.channel_event("Newstate", ev.CALL, handset))
        self.emit(ev.dial_event("DialEnd", ev.CALL, None, handset, [("DialStatus", "ANSWER")]))
        if originate is not None:
            handset.application, handset.application_data = originate.application, originate.data
            if originate.asynchronous:
                self.emit(self._originate_success(originate, handset))
            wait = _wait_seconds(originate)
            if wait:
                call.handset_timer = self._later(
                    wait, lambda: self._handset_hangs_up(call, HangupCause.UNKNOWN)
                )
        leg.application = "MusicOnHold"
        call.step = self._later(self.settings.ivr_time, lambda: self._announce(call))
        log.info("pbxsim.call.placed", caller=profile.caller_id, channel=leg.name)
        return call

    def _announce(self, call: InboundCall) -> None:
        leg, profile = call.leg, call.profile
        leg.priority = 6
        arrival = str(int(call.arrival))
        self.emit(
            ev.user_event(
                leg,
                "HotlineCall",
                [
                    ("Caller", profile.caller_id),
                    ("CallerName", profile.name),
                    ("HotlineDID", self.settings.hotline_did),
                    ("Arrival", arrival),
                    ("Account", profile.account),
                    ("Pin", profile.pin_for(call.attempt)),
                    ("Pass", profile.pass_digit),
                    ("Attempt", str(call.attempt)),
                ],
            )
        )
        leg.priority = 7
        call.stage = Stage.WAITING_ROUTER
        call.step = self._later(self.settings.router_wait, lambda: self._failsafe(call))

    def _failsafe(self, call: InboundCall) -> None:
        waited = str(int(self.now() - call.arrival))
        leg = call.leg
        leg.priority = 9
        self.emit(
            ev.user_event(
                leg, "HotlineFailsafe", [("Caller", call.profile.caller_id), ("Waited", waited)]
            )
        )
        log.info("pbxsim.call.failsafe", channel=leg.name, waited=waited)
        self._enter_queue(call, self.queues["coordinators"])

    def _enter_queue(self, call: InboundCall, queue: Queue) -> None:
        leg = call.leg
        leg.context, leg.exten, leg.priority = f"queue-{queue.name}", "s", 1
        prio_text = leg.variables.get("QUEUE_PRIO", "")
        self.emit(ev.newexten(leg, "NoOp", f"Entering queue {queue.name}, QUEUE_PRIO={prio_text}"))
        try:
            priority = int(prio_text)
        except ValueError:
            priority = 0
        self.emit(
            ev.user_event(
                leg, "HotlineQueued", [("Queue", queue.name), ("QueuePriority", str(priority))]
            )
        )
        leg.priority, leg.application = 3, "Queue"
        call.stage, call.queue = Stage.QUEUED, queue
        call.entry = queue.join(leg, priority, self.now())
        self.emit(
            ev.channel_event(
                "QueueCallerJoin",
                ev.AGENT,
                leg,
                [
                    ("Queue", queue.name),
                    ("Position", str(queue.position(call.entry))),
                    ("Count", str(len(queue.entries))),
                ],
            )
        )
        if call.patient:
            call.patience = self._later(
                self._uniform(self.settings.patience),
                lambda: self._handset_hangs_up(call, HangupCause.NORMAL_CLEARING),
            )
        self._dispatch(queue)

    def _leave_queue(self, call: InboundCall, *, abandoned: bool) -> None:
        queue, entry = call.queue, call.entry
        if queue is None or entry is None:
            return
        self._cancel(call.patience)
        for offer in list(call.offers):
            self._end_offer(offer, "CANCEL")
        position = str(queue.position(entry))
        if abandoned:
            queue.abandoned += 1
            self.emit(
                ev.channel_event(
                    "QueueCallerAbandon",
                    ev.AGENT,
                    call.leg,
                    [
                        ("Queue", queue.name),
                        ("Position", position),
                        ("OriginalPosition", str(entry.original_position)),
                        ("HoldTime", str(int(self.now() - entry.joined_at))),
                    ],
                )
            )
        queue.entries.remove(entry)
        call.entry = None
        self.emit(
            ev.channel_event(
                "QueueCallerLeave",
                ev.AGENT,
                call.leg,
                [("Queue", queue.name), ("Position", position), ("Count", str(len(queue.entries)))],
            )
        )

    def _finish(self, call: InboundCall, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        """The `;2` half reaches Hangup() in the dialplan; the handset follows."""
        call.stage = Stage.GONE
        self._cancel(call.step, call.patience, call.talk, call.handset_timer)
        self._hangup(call.leg, cause)
        self._hangup(call.handset, cause)

    def _handset_hangs_up(self, call: InboundCall, cause: HangupCause) -> None:
        """The caller puts the phone down (patience or Wait over, or AMI Hangup of `;1`)."""
        self._cancel(call.step, call.patience, call.talk, call.handset_timer)
        if call.stage is Stage.CONNECTED and call.connection is not None:
            offer = call.connection
            self._agent_complete(offer, "caller")
            self._hangup(call.handset, cause)
            self._leave_bridge(call.leg, 1)
            self._hangup(call.leg, HangupCause.NORMAL_CLEARING)
            self._release_agent(offer)
        elif call.stage is Stage.QUEUED:
            self._hangup(call.handset, cause)
            self._leave_queue(call, abandoned=True)
            self._hangup(call.leg, HangupCause.NORMAL_CLEARING)
        else:
            self._hangup(call.handset, cause)
            self._hangup(call.leg, cause)
        call.stage = Stage.GONE

    def _leg_hung_up(self, call: InboundCall, cause: HangupCause) -> None:
        """AMI Hangup of the `;2` half."""
        self._cancel(call.step, call.patience, call.talk, call.handset_timer)
        if call.stage is Stage.CONNECTED and call.connection is not None:
            offer = call.connection
            self._agent_complete(offer, "caller")
            self._leave_bridge(call.leg, 1)
            self._hangup(call.leg, cause)
            self._hangup(call.handset, HangupCause.NORMAL_CLEARING)
            self._release_agent(offer)
        else:
            if call.stage is Stage.QUEUED:
                self._leave_queue(call, abandoned=True)
            self._hangup(call.leg, cause)
            self._hangup(call.handset, HangupCause.NORMAL_CLEARING)
        call.stage = Stage.GONE

    def redirect(self, channel_name: str, context: str) -> str | None:
        """AMI Redirect; returns an error message, or None for `Redirect successful`.

        Like Asterisk, the target is not validated (07-errors): an unknown context hangs the
        call up after the success response. Channels whose dialplan is not simulated (agent
        and customer legs, the caller's handset) are hung up the same way."""
        channel = self.channels.get(channel_name)
        if channel is None:
            return f"Channel does not exist: {channel_name}"
        owner = self._owners.get(channel_name)
        if isinstance(owner, InboundCall) and owner.leg is channel:
            self._route(owner, context)
        else:
            self.hangup(channel_name)
        return None

    def _route(self, call: InboundCall, context: str) -> None:
        self._cancel(call.step)
        if call.stage is Stage.QUEUED:
            self._leave_queue(call, abandoned=False)
        elif call.stage is Stage.CONNECTED and call.connection is not None:
            offer = call.connection
            self._agent_complete(offer, "transfer")
            self._leave_bridge(call.leg, 1)
            self._cancel(call.talk)
            self._release_agent(offer)
        leg = call.leg
        queue = (
            self.queues.get(context.removeprefix("queue-"))
            if context.startswith("queue-")
            else None
        )
        if queue is not None:
            self._enter_queue(call, queue)
            return
        leg.context, leg.exten, leg.priority = context, "s", 1
        if context == "hotline-message":
            call.stage = Stage.MESSAGE
            sound = leg.variables.get("HOTLINE_MESSAGE", "")
            self.emit(ev.newexten(leg, "Playback", sound))
            call.step = self._later(self.settings.message_time, lambda: self._finish(call))
        elif context == "hotline-pin-retry":
            self.emit(ev.newexten(leg, "Read", "HOTLINE_ACCOUNT"))
            if call.attempt >= MAX_PIN_ATTEMPTS:
                call.stage = Stage.MESSAGE
                call.step = self._later(self.settings.message_time, lambda: self._finish(call))
            else:
                call.attempt += 1
                call.stage = Stage.IVR
                call.step = self._later(self.settings.ivr_time, lambda: self._announce(call))
        else:
            self._finish(call, HangupCause.UNKNOWN)

    # ------------------------------------------------------------------ app_queue

    def _dispatch_all(self) -> None:
        for queue in self.queues.values():
            self._dispatch(queue)

    def _dispatch(self, queue: Queue) -> None:
        for entry in list(queue.entries):
            call = self._owners.get(entry.channel.name)
            if not isinstance(call, InboundCall) or call.offers:
                continue
            members = queue.pick(self._available)
            if not members:
                return
            for member in members:
                self._ring(call, queue, member)

    def _retry_later(self, queue: Queue) -> None:
        if queue.name in self._retry_pending:
            return
        self._retry_pending.add(queue.name)

        def retry() -> None:
            self._retry_pending.discard(queue.name)
            self._dispatch(queue)

        self._later(self.settings.retry, retry)

    def _ring(self, call: InboundCall, queue: Queue, member: Member) -> None:
        match = _LOCAL.match(member.interface)
        exten, context = (match["exten"], match["context"]) if match else (member.interface, "")
        one, two = self._new_pair(exten, context or "agents", call.leg.linkedid)
        offer = AgentOffer(call, queue, member, one, two, self.now())
        self._own(offer, one, two)
        call.offers.append(offer)
        self.emit(ev.channel_event("Newchannel", ev.CALL, one))
        self.emit(ev.channel_event("Newchannel", ev.CALL, two))
        for channel in (one, two):
            channel.set_caller(call.leg.caller_num, call.leg.caller_name)
        member_headers = [
            ("Queue", queue.name),
            ("Interface", member.interface),
            ("MemberName", member.name),
        ]
        self.emit(ev.dial_event("AgentCalled", ev.AGENT, call.leg, one, member_headers))
        self.emit(
            ev.dial_event("DialBegin", ev.CALL, call.leg, one, [("DialString", member.interface)])
        )
        outcome, delay = self._outcome(exten, context)
        if outcome is Outcome.ANSWER or outcome is Outcome.NEVER:
            one.state = ChannelState.RINGING
            self.emit(ev.channel_event("Newstate", ev.CALL, one))
        self._device_up(member.interface)
        if outcome is Outcome.ANSWER and delay <= self.settings.ring_timeout:
            offer.timer = self._later(delay, lambda: self._agent_answers(offer))
        elif outcome is Outcome.ANSWER or outcome is Outcome.NEVER:
            offer.timer = self._later(self.settings.ring_timeout, lambda: self._ring_timeout(offer))
        else:
            status = "BUSY" if outcome is Outcome.BUSY else "CHANUNAVAIL"
            offer.timer = self._later(0.0, lambda: self._fail_offer(offer, status))

    def _ring_timeout(self, offer: AgentOffer) -> None:
        headers = [
            ("Queue", offer.queue.name),
            ("Interface", offer.member.interface),
            ("MemberName", offer.member.name),
            ("RingTime", str(int(self.now() - offer.started))),
        ]
        self.emit(ev.dial_event("AgentRingNoAnswer", ev.AGENT, offer.call.leg, offer.one, headers))
        self._fail_offer(offer, "NOANSWER")

    def _fail_offer(self, offer: AgentOffer, status: str) -> None:
        self._end_offer(offer, status)
        self._retry_later(offer.queue)

    def _end_offer(self, offer: AgentOffer, status: str) -> None:
        """Stop ringing one member (no answer, busy, or cancelled)."""
        self._cancel(offer.timer)
        if offer in offer.call.offers:
            offer.call.offers.remove(offer)
        self.emit(
            ev.dial_event("DialEnd", ev.CALL, offer.call.leg, offer.one, [("DialStatus", status)])
        )
        self._hangup(offer.one, HangupCause.NORMAL_CLEARING)
        self._hangup(offer.two, HangupCause.NORMAL_CLEARING)
        self._device_down(offer.member.interface)

    def _agent_answers(self, offer: AgentOffer) -> None:
        call, queue, member = offer.call, offer.queue, offer.member
        one, two = offer.one, offer.two
        two.state, two.priority = ChannelState.UP, 4
        self.emit(ev.channel_event("Newstate", ev.CALL, two))
        one.state = ChannelState.UP
        one.set_connected(call.leg.caller_num, call.leg.caller_name)
        self.emit(ev.channel_event("Newstate", ev.CALL, one))
        self.emit(ev.dial_event("DialEnd", ev.CALL, call.leg, one, [("DialStatus", "ANSWER")]))
        call.offers.remove(offer)
        for other in list(call.offers):
            self._end_offer(other, "CANCEL")
        entry = call.entry
        holdtime = self.now() - entry.joined_at if entry is not None else 0.0
        self._cancel(call.patience)
        self._leave_queue(call, abandoned=False)
        queue.record_answer(holdtime)
        offer.answered_at, offer.holdtime = self.now(), holdtime
        call.stage, call.connection = Stage.CONNECTED, offer
        self.emit(
            ev.dial_event(
                "AgentConnect",
                ev.AGENT,
                call.leg,
                one,
                [
                    ("Queue", queue.name),
                    ("Interface", member.interface),
                    ("MemberName", member.name),
                    ("HoldTime", str(int(holdtime))),
                    ("RingTime", str(int(offer.answered_at - offer.started))),
                ],
            )
        )
        offer.bridge_id = self._bridge(one, call.leg)
        self._in_call.add(member.interface)
        log.info("pbxsim.call.connected", channel=call.leg.name, member=member.name)
        if call.patient:
            talk = self._uniform(self.settings.talk_time)
            call.talk = self._later(talk, lambda: self._talk_ends(call))

    def _talk_ends(self, call: InboundCall) -> None:
        if call.stage is not Stage.CONNECTED or call.connection is None:
            return
        if self.rng.random() < 0.5:
            self._handset_hangs_up(call, HangupCause.NORMAL_CLEARING)
        else:
            self._agent_hangs_up(call.connection, call.connection.two, HangupCause.NORMAL_CLEARING)

    def _agent_complete(self, offer: AgentOffer, reason: str) -> None:
        talk = int(self.now() - offer.answered_at)
        self.emit(
            ev.dial_event(
                "AgentComplete",
                ev.AGENT,
                offer.call.leg,
                offer.one,
                [
                    ("Queue", offer.queue.name),
                    ("Interface", offer.member.interface),
                    ("MemberName", offer.member.name),
                    ("HoldTime", str(int(offer.holdtime))),
                    ("TalkTime", str(talk)),
                    ("Reason", reason),
                ],
            )
        )
        offer.queue.record_completion(talk)

    def _release_agent(self, offer: AgentOffer) -> None:
        """The caller side is gone: the agent's half leaves the bridge and hangs up."""
        if offer.one.bridge_id:
            self._leave_bridge(offer.one, 0)
        self._hangup(offer.one, HangupCause.NORMAL_CLEARING)
        self._hangup(offer.two, HangupCause.NORMAL_CLEARING)
        self.emit(ev.bridge_event("BridgeDestroy", offer.bridge_id, 0))
        self._settle_member(offer)

    def _settle_member(self, offer: AgentOffer) -> None:
        offer.call.connection = None
        self._in_call.discard(offer.member.interface)
        offer.member.calls_taken += 1
        offer.member.last_call = self.now()
        self._device_down(offer.member.interface)

    def _agent_hangs_up(self, offer: AgentOffer, target: Channel, cause: HangupCause) -> None:
        call = offer.call
        self._cancel(call.talk)
        self._agent_complete(offer, "agent")
        if target is offer.two:
            self._hangup(offer.two, cause)
            self._leave_bridge(offer.one, 1)
            self._hangup(offer.one, HangupCause.NORMAL_CLEARING)
        else:
            self._leave_bridge(offer.one, 1)
            self._hangup(offer.one, cause)
            self._hangup(offer.two, HangupCause.NORMAL_CLEARING)
        self._leave_bridge(call.leg, 0)
        self.emit(ev.bridge_event("BridgeDestroy", offer.bridge_id, 0))
        self._settle_member(offer)
        self._finish(call)

    # ------------------------------------------------------------------ queue management

    def _queues_for(self, queue_name: str | None) -> list[Queue] | None:
        if not queue_name:
            return list(self.queues.values())
        queue = self.queues.get(queue_name)
        return [queue] if queue is not None else None

    def queue_pause(
        self, interface: str, paused: bool, queue_name: str | None = None, reason: str = ""
    ) -> str | None:
        matched = [
            (q, m)
            for q in self._queues_for(queue_name) or []
            if (m := q.member(interface)) is not None
        ]
        if not matched:
            return "Interface not found"
        for queue, member in matched:
            member.paused = paused
            member.paused_reason = reason if paused else ""
            if paused:
                member.last_pause = self.now()
            self._member_event("QueueMemberPause", queue, member)
        if not paused:
            self._later(0.0, self._dispatch_all)
        return None

    def queue_add(
        self,
        queue_name: str,
        interface: str,
        member_name: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
    ) -> str | None:
        queue = self.queues.get(queue_name)
        if queue is None:
            return "Unable to add interface to queue: No such queue"
        if queue.member(interface) is not None:
            return "Unable to add interface: Already there"
        member = Member(
            interface,
            member_name or interface,
            self.now(),
            dynamic=True,
            penalty=penalty,
            paused=paused,
            paused_reason=reason if paused else "",
        )
        queue.members.append(member)
        self._member_event("QueueMemberAdded", queue, member)
        self._later(0.0, lambda: self._dispatch(queue))
        return None

    def queue_remove(self, queue_name: str, interface: str) -> str | None:
        queue = self.queues.get(queue_name)
        if queue is None:
            return "Unable to remove interface from queue: No such queue"
        member = queue.member(interface)
        if member is None:
            return "Unable to remove interface: Not there"
        if not member.dynamic:
            return "Unable to remove interface: Not dynamic"
        queue.members.remove(member)
        self._member_event("QueueMemberRemoved", queue, member)
        return None

    def queue_penalty(self, interface: str, penalty: int, queue_name: str | None) -> str | None:
        matched = [(q, m) for q in self._queues_for(queue_name) or [] if (m := q.member(interface))]
        if not matched:
            return "Invalid interface, queuename or penalty"
        for queue, member in matched:
            member.penalty = penalty
            self._member_event("QueueMemberPenalty", queue, member)
        return None

    def queue_ringinuse(
        self, interface: str, ringinuse: bool, queue_name: str | None
    ) -> str | None:
        matched = [(q, m) for q in self._queues_for(queue_name) or [] if (m := q.member(interface))]
        if not matched:
            return "Invalid interface, queuename or ringinuse value"
        for queue, member in matched:
            member.ringinuse = ringinuse
            self._member_event("QueueMemberRinginuse", queue, member)
        return None

    def change_priority(
        self, queue_name: str, caller: str, priority: int, *, immediate: bool
    ) -> str | None:
        queue = self.queues.get(queue_name)
        if queue is None:
            return "Unable to change priority caller on queue: No such queue"
        entry = queue.entry(caller)
        if entry is None:
            return "Unable to change priority caller on queue: No such caller"
        queue.reprioritise(entry, priority, immediate=immediate)
        return None

    def withdraw(self, queue_name: str, caller: str, info: str) -> str | None:
        queue = self.queues.get(queue_name)
        call = self._owners.get(caller)
        if queue is None or not isinstance(call, InboundCall) or call.queue is not queue:
            return "Unable to request withdraw from queue: No such caller"
        if call.stage is not Stage.QUEUED:
            return "Unable to request withdraw from queue: No such caller"
        self._cancel(call.patience)
        self._leave_queue(call, abandoned=True)
        call.leg.variables["QUEUESTATUS"] = "WITHDRAW"
        call.leg.variables["QUEUE_WITHDRAW_INFO"] = info
        self._later(0.0, lambda: self._finish(call))
        return None

    # ------------------------------------------------------------------ channel actions

    def setvar(self, channel_name: str | None, variable: str, value: str) -> str | None:
        if not channel_name:
            self.globals[variable] = value
            return None
        channel = self.channels.get(channel_name)
        if channel is None:
            return "No such channel"
        channel.variables[variable] = value
        self.emit(
            ev.channel_event(
                "VarSet", ev.DIALPLAN, channel, [("Variable", variable), ("Value", value)]
            )
        )
        return None

    def getvar(self, channel_name: str | None, variable: str) -> tuple[str | None, str]:
        """(error, value)."""
        if not channel_name:
            return None, self.globals.get(variable, "")
        channel = self.channels.get(channel_name)
        if channel is None:
            return "No such channel", ""
        return None, channel.variables.get(variable, "")

    def hangup(self, channel_name: str) -> str | None:
        channel = self.channels.get(channel_name)
        if channel is None:
            return "No such channel"
        owner = self._owners.get(channel_name)
        if isinstance(owner, InboundCall):
            if channel is owner.handset:
                self._handset_hangs_up(owner, HangupCause.UNKNOWN)
            else:
                self._leg_hung_up(owner, HangupCause.UNKNOWN)
        elif isinstance(owner, AgentOffer):
            if owner.call.connection is owner:
                self._agent_hangs_up(owner, channel, HangupCause.UNKNOWN)
            else:
                self._fail_offer(owner, "NOANSWER")
        elif isinstance(owner, OutboundCall):
            self._outbound_hangup(owner, channel, HangupCause.UNKNOWN)
        else:
            self._hangup(channel, HangupCause.UNKNOWN)
        return None

    # ------------------------------------------------------------------ originate

    def _outcome(self, exten: str, context: str) -> tuple[Outcome, float]:
        """How the lab's [agents], [customers] and [hotline] answer (configs/extensions.conf)."""
        if context == "agents":
            if exten == "noanswer":
                return Outcome.NEVER, 0.0
            if exten == "busy":
                return Outcome.BUSY, 0.0
            if _AGENT_EXTEN.match(exten):
                return Outcome.ANSWER, self._uniform(self.settings.answer_delay)
        elif context == "customers":
            if _NEVER_ANSWERS.match(exten):
                return Outcome.NEVER, 0.0
            if _ALWAYS_BUSY.match(exten):
                return Outcome.BUSY, 0.0
            if _DIGITS.match(exten):
                return Outcome.ANSWER, self._uniform(self.settings.answer_delay)
        elif context == "hotline" and _DIGITS.match(exten):
            return Outcome.ANSWER, 0.0
        return Outcome.INVALID, 0.0

    def originate(
        self, request: OriginateRequest, on_result: Callable[[bool], None] | None = None
    ) -> None:
        """AMI Originate. The outcome comes as an OriginateResponse event (async) or through
        `on_result` (synchronous Originate, which emits no OriginateResponse)."""
        match = _LOCAL.match(request.channel)
        if match is None:
            self._originate_failed(request, on_result, reason=0)
            return
        exten, context = match["exten"], match["context"]
        if context == "hotline" and _DIGITS.match(exten):
            number, name = parse_caller_id(request.caller_id)
            self._start_inbound(CallerProfile(exten, name or number or exten), originate=request)
            if on_result is not None:
                on_result(True)
            return
        interface = f"Local/{exten}@{context}"
        one, two = self._new_pair(exten, context, None)
        out = OutboundCall(request, on_result, interface, one, two)
        self._own(out, one, two)
        number, name = parse_caller_id(request.caller_id)
        self.emit(ev.channel_event("Newchannel", ev.CALL, one))
        self.emit(ev.channel_event("Newchannel", ev.CALL, two))
        outcome, delay = self._outcome(exten, context)
        if outcome is Outcome.INVALID:
            self._hangup(two, HangupCause.UNKNOWN)
            self._originate_failed(request, on_result, reason=0)
            self._hangup(one, HangupCause.UNKNOWN)
            return
        if request.caller_id:
            for channel in (one, two):
                channel.set_caller(number, name)
                channel.set_connected(number, name)
        self.emit(
            ev.dial_event("DialBegin", ev.CALL, None, one, [("DialString", f"{exten}@{context}")])
        )
        if outcome is Outcome.BUSY or (context == "agents" and self._device_use.get(interface)):
            # ringinuse=no for people too: an agent already on a call does not pick up.
            self._later(0.0, lambda: self._outbound_busy(out))
            return
        one.state = ChannelState.RINGING
        self.emit(ev.channel_event("Newstate", ev.CALL, one))
        self._device_up(interface)
        out.holds_device = True
        if outcome is Outcome.ANSWER and delay <= request.timeout:
            out.timer = self._later(delay, lambda: self._outbound_answered(out))
        else:
            out.timer = self._later(request.timeout, lambda: self._outbound_no_answer(out))

    def _originate_success(self, request: OriginateRequest, channel: Channel) -> Message:
        return self._originate_response(
            request,
            "Success",
            channel.name,
            4,
            channel.uniqueid,
            channel.caller_num,
            channel.caller_name,
        )

    def _originate_response(
        self,
        request: OriginateRequest,
        response: str,
        channel: str,
        reason: int,
        uniqueid: str,
        number: str,
        name: str,
    ) -> Message:
        headers: list[tuple[str, str]] = []
        if request.action_id is not None:
            headers.append(("ActionID", request.action_id))
        headers += [("Response", response), ("Channel", channel)]
        if request.application:
            headers += [("Application", request.application), ("Data", request.data)]
        else:
            headers += [("Context", request.context), ("Exten", request.exten)]
        headers += [
            ("Reason", str(reason)),
            ("Uniqueid", uniqueid),
            ("CallerIDNum", number),
            ("CallerIDName", name),
        ]
        return ev.event("OriginateResponse", ev.CALL, headers)

    def _originate_failed(
        self, request: OriginateRequest, on_result: Callable[[bool], None] | None, reason: int
    ) -> None:
        if request.asynchronous:
            unknown = "<unknown>"
            self.emit(
                self._originate_response(
                    request, "Failure", request.channel, reason, unknown, unknown, unknown
                )
            )
        if on_result is not None:
            on_result(False)

    def _outbound_busy(self, out: OutboundCall) -> None:
        out.two.state = ChannelState.BUSY
        self.emit(ev.channel_event("Newstate", ev.CALL, out.two))
        self.emit(ev.dial_event("DialEnd", ev.CALL, None, out.one, [("DialStatus", "BUSY")]))
        self._hangup(out.two, HangupCause.USER_BUSY)
        self._originate_failed(out.request, out.on_result, reason=5)
        self._hangup(out.one, HangupCause.UNKNOWN)

    def _outbound_no_answer(self, out: OutboundCall) -> None:
        self._originate_failed(out.request, out.on_result, reason=3)
        self._hangup(out.two, HangupCause.NO_ANSWER)
        self._hangup(out.one, HangupCause.NO_ANSWER)
        self._release_device(out)

    def _outbound_answered(self, out: OutboundCall) -> None:
        request, one, two = out.request, out.one, out.two
        out.answered = True
        two.state, two.priority = ChannelState.UP, 4
        self.emit(ev.channel_event("Newstate", ev.CALL, two))
        if request.asynchronous:
            self.emit(self._originate_success(request, one))
        if out.on_result is not None:
            out.on_result(True)
        one.state = ChannelState.UP
        self.emit(ev.channel_event("Newstate", ev.CALL, one))
        self.emit(ev.dial_event("DialEnd", ev.CALL, None, one, [("DialStatus", "ANSWER")]))
        if request.application:
            one.application, one.application_data = request.application, request.data
            stay = _wait_seconds(request) or self._uniform(self.settings.talk_time)
            out.timer = self._later(stay, lambda: self._outbound_done(out))
        elif request.context == "callback" and _DIGITS.match(request.exten):
            one.context, one.exten, one.priority = "callback", request.exten, 4
            one.set_caller(self.settings.hotline_did, "Hotline")
            out.timer = self._later(0.0, lambda: self._dial_customer(out))
        else:
            out.timer = self._later(0.0, lambda: self._outbound_done(out))

    def _variable(self, out: OutboundCall, name: str) -> str:
        return next((v for k, v in out.request.variables if k == name), "")

    def _dial_customer(self, out: OutboundCall) -> None:
        customer = out.request.exten
        one = out.one
        b1, b2 = self._new_pair(customer, "customers", one.linkedid)
        self._own(out, b1, b2)
        out.customer = (b1, b2)
        self.emit(ev.channel_event("Newchannel", ev.CALL, b1))
        self.emit(ev.channel_event("Newchannel", ev.CALL, b2))
        caller_name = one.connected_name
        for channel in (b1, b2):
            channel.set_caller(customer, caller_name)
            channel.set_connected(self.settings.hotline_did, "Hotline")
        self.emit(
            ev.dial_event("DialBegin", ev.CALL, one, b1, [("DialString", f"{customer}@customers")])
        )
        outcome, delay = self._outcome(customer, "customers")
        if outcome is Outcome.BUSY:
            b2.state = ChannelState.BUSY
            self.emit(ev.channel_event("Newstate", ev.CALL, b2))
            self.emit(ev.dial_event("DialEnd", ev.CALL, one, b1, [("DialStatus", "BUSY")]))
            self._hangup(b1, HangupCause.UNKNOWN)
            self._hangup(b2, HangupCause.USER_BUSY)
            self._outbound_done(out)
            return
        b1.state = ChannelState.RINGING
        self.emit(ev.channel_event("Newstate", ev.CALL, b1))
        ring_limit = _float(
            self._variable(out, "CALLBACK_RING_SECS"), self.settings.callback_ring_time
        )
        if outcome is Outcome.ANSWER and delay <= ring_limit:
            out.timer = self._later(delay, lambda: self._customer_answers(out))
        else:
            out.timer = self._later(ring_limit, lambda: self._customer_no_answer(out))

    def _customer_no_answer(self, out: OutboundCall) -> None:
        assert out.customer is not None
        b1, b2 = out.customer
        self.emit(ev.dial_event("DialEnd", ev.CALL, out.one, b1, [("DialStatus", "NOANSWER")]))
        self._hangup(b1, HangupCause.UNKNOWN)
        self._outbound_done(out)
        self._hangup(b2, HangupCause.UNKNOWN)

    def _customer_answers(self, out: OutboundCall) -> None:
        assert out.customer is not None
        b1, b2 = out.customer
        b2.state, b2.priority = ChannelState.UP, 3
        self.emit(ev.channel_event("Newstate", ev.CALL, b2))
        b1.state = ChannelState.UP
        self.emit(ev.channel_event("Newstate", ev.CALL, b1))
        self.emit(ev.dial_event("DialEnd", ev.CALL, out.one, b1, [("DialStatus", "ANSWER")]))
        out.bridge_id = self._bridge(b1, out.one)
        talk = _float(self._variable(out, "CUSTOMER_TALK_SECS"), 0.0) or self._uniform(
            self.settings.talk_time
        )
        out.timer = self._later(
            talk, lambda: self._outbound_hangup(out, b2, HangupCause.NORMAL_CLEARING)
        )

    def _outbound_done(self, out: OutboundCall) -> None:
        """The agent's half finishes its dialplan: both agent channels hang up."""
        self._cancel(out.timer)
        self._hangup(out.one, HangupCause.NORMAL_CLEARING)
        self._release_device(out)
        self._hangup(out.two, HangupCause.NORMAL_CLEARING)

    def _outbound_hangup(self, out: OutboundCall, target: Channel, cause: HangupCause) -> None:
        """A leg of an originated call hangs up (AMI Hangup, or the customer ends the talk);
        the others follow, each leaving the bridge first."""
        self._cancel(out.timer)
        if not out.answered:
            self._originate_failed(out.request, out.on_result, reason=1)
        legs = [*(out.customer or ()), out.one, out.two]
        self._drop(target, cause)
        for channel in legs:
            if channel is not target:
                self._drop(channel, HangupCause.NORMAL_CLEARING)
        if out.bridge_id:
            self.emit(ev.bridge_event("BridgeDestroy", out.bridge_id, 0))
        self._release_device(out)

    def _drop(self, channel: Channel, cause: HangupCause) -> None:
        if channel.name not in self.channels:
            return
        if channel.bridge_id:
            still = sum(
                1
                for c in self.channels.values()
                if c.bridge_id == channel.bridge_id and c is not channel
            )
            self._leave_bridge(channel, still)
        self._hangup(channel, cause)

    def _release_device(self, out: OutboundCall) -> None:
        if out.holds_device:
            out.holds_device = False
            self._device_down(out.interface)

    # ------------------------------------------------------------------ traffic

    def start_traffic(self, calls_per_second: float, profiles: Sequence[CallerProfile]) -> None:
        """Poisson arrivals in model time: known profiles, plus `unknown_caller_share` of
        numbers nobody registered."""
        if calls_per_second <= 0:
            raise ValueError("the call rate must be positive")
        self.stop_traffic()
        known = tuple(profiles)

        def arrive() -> None:
            self.place_call(self._pick_caller(known))
            schedule()

        def schedule() -> None:
            self._traffic = self._later(self.rng.expovariate(calls_per_second), arrive)

        schedule()

    def stop_traffic(self) -> None:
        self._cancel(self._traffic)
        self._traffic = None

    def _pick_caller(self, known: tuple[CallerProfile, ...]) -> CallerProfile:
        if known and self.rng.random() >= self.settings.unknown_caller_share:
            return self.rng.choice(known)
        number = f"06{self.rng.randrange(10**8):08d}"
        return CallerProfile(number, "", pass_digit=self.rng.choice("123"))

    # ------------------------------------------------------------------ views

    def snapshot(self) -> Snapshot:
        now = self.now()
        queues: dict[str, QueueView] = {}
        for name, queue in self.queues.items():
            queues[name] = QueueView(
                strategy=queue.strategy,
                callers=[
                    CallerView(
                        channel=e.channel.name,
                        uniqueid=e.channel.uniqueid,
                        caller_id=e.channel.caller_num,
                        priority=e.priority,
                        wait=now - e.joined_at,
                    )
                    for e in queue.entries
                ],
                members=[
                    MemberView(
                        interface=m.interface,
                        name=m.name,
                        paused=m.paused,
                        paused_reason=m.paused_reason,
                        status=self.member_status(m.interface),
                        in_call=self.in_call(m.interface),
                        calls_taken=m.calls_taken,
                    )
                    for m in queue.members
                ],
                completed=queue.completed,
                abandoned=queue.abandoned,
            )
        return Snapshot(queues=queues, channels=list(self.channels), calls_placed=self.calls_placed)


def _float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


def _wait_seconds(request: OriginateRequest) -> float:
    """Seconds an originated leg stays in `Application=Wait`, 0 when it runs something else."""
    if request.application.lower() != "wait":
        return 0.0
    return _float(request.data, 0.0)
