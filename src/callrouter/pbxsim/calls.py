"""What the simulated PBX keeps about each call: inbound callers, agent offers, originates."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from callrouter.pbxsim.channels import Channel
from callrouter.pbxsim.queues import Member, Queue, QueueEntry
from callrouter.pbxsim.scheduler import Timer
from callrouter.pbxsim.settings import CallerProfile

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

    def variable(self, name: str) -> str:
        return next((v for k, v in self.variables if k == name), "")


@dataclass(eq=False)
class InboundCall:
    handset: Channel
    leg: Channel
    profile: CallerProfile
    arrival: float
    #: Traffic callers give up after `patience` in queue and talk `talk_time`; callers
    #: originated over AMI hang up when their handset's dialplan ends instead.
    patient: bool
    #: The number the caller dialled (HotlineDID), from the Local channel's extension.
    did: str
    attempt: int = 1
    stage: Stage = Stage.IVR
    #: An agent or technician took the call.
    served: bool = False
    queue: Queue | None = None
    entry: QueueEntry | None = None
    offers: list[AgentOffer] = field(default_factory=list)
    connection: AgentOffer | None = None
    #: Agents this caller left by a Redirect: app_queue completes them when the caller hangs up.
    deferred: list[AgentOffer] = field(default_factory=list)
    #: What the dialplan read by DTMF: account, PIN and pass.
    account: str = ""
    pin: str = ""
    pass_digit: str = ""
    step: Timer | None = None
    patience: Timer | None = None
    queue_timeout: Timer | None = None
    talk: Timer | None = None
    handset_timer: Timer | None = None
    keying: list[Timer] = field(default_factory=list)

    def stop_timers(self) -> None:
        timers = (self.step, self.patience, self.queue_timeout, self.talk, self.handset_timer)
        for timer in (*timers, *self.keying):
            if timer is not None:
                timer.cancel()
        self.keying.clear()


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
    #: An on-call technician's answered phone waiting for the confirmation key.
    confirm: Timer | None = None
    answered_at: float = 0.0
    holdtime: float = 0.0
    bridge_id: str = ""


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


Owner = InboundCall | AgentOffer | OutboundCall


def parse_caller_id(raw: str) -> tuple[str, str]:
    """`"Jean Dupont" <0612345678>` -> ("0612345678", "Jean Dupont")."""
    match = _CALLER_ID.match(raw)
    if match is None:
        return raw.strip(), ""
    return match["number"].strip(), match["name"].strip()


def to_float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


def wait_seconds(request: OriginateRequest) -> float:
    """Seconds an originated leg stays in `Application=Wait`, 0 when it runs something else."""
    if request.application.lower() != "wait":
        return 0.0
    return to_float(request.data, 0.0)
