"""What the simulated PBX is made of: its AMI account, its queues and how its people behave.

Defaults copy the lab Asterisk that recorded /work/shared/ami-traces (configs/queues.conf):
three queues of static `Local/agentN@agents` members, a 15 s ring timeout, a 2 s retry,
`ringinuse=no`; strategies are the ones app_queue really applies to dialplans/queues.conf
(see `queues_conf.py`). The IVR follows dialplans/extensions.conf: its prompts (their
lengths are the shipped sounds'), its digit timeout, and a caller who keys DTMF the way
the project's test caller does (`Wait`, then `SendDTMF(digits,250)`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from callrouter.errors import ConfigError
from callrouter.pbxsim.queues import STRATEGIES

#: Queue name -> (interface, member name), as in the traces' queues.conf.
DEFAULT_QUEUES: dict[str, tuple[tuple[str, str], ...]] = {
    "coordinators": (
        ("Local/agent1@agents", "Alice Martin"),
        ("Local/agent2@agents", "Bruno Petit"),
    ),
    "experts": (
        ("Local/agent3@agents", "Chloe Bernard"),
        ("Local/agent4@agents", "David Moreau"),
    ),
    "oncall": (("Local/agent5@agents", "Emma Laurent"),),
}

#: What app_queue really does with dialplans/queues.conf (tests/pbxsim/test_queues_conf.py
#: checks it against that file).
DEFAULT_STRATEGIES: dict[str, str] = {
    "coordinators": "rrmemory",
    "experts": "rrmemory",
    "oncall": "ringall",
}

#: Seconds each sound of dialplans/sounds/fr plays (tests/pbxsim/test_realism.py checks
#: them against the files). A sound not listed plays for no time, like a missing file.
TECHNICIAN_BEHAVIOURS = ("confirms", "voicemail", "never")

DEFAULT_PROMPTS: dict[str, float] = {
    "callrouter/bienvenue": 2.96,
    "callrouter/numero-compte": 9.42,
    "callrouter/code-pin": 4.4,
    "callrouter/choix-pass": 8.16,
    "callrouter/code-incorrect": 2.92,
    "callrouter/aucun-agent": 4.52,
    "callrouter/rappel-programme": 3.08,
    "callrouter/refused": 2.78,
    "callrouter/closed-hours": 2.5,
    "callrouter/insufficient-balance": 5.96,
    "callrouter/reouverture": 1.74,
    "callrouter/annonce-rappel": 5.1,
    "callrouter/annonce-rendez-vous": 5.36,
    "callrouter/astreinte-confirmer": 4.36,
    "callrouter/astreinte-message": 6.86,
}

#: How the lab's people answer an Originate or a callback's Dial, first match wins:
#: (context, pattern of the extension, "never" or "busy"). Others of `[agents]` (agent...)
#: and `[customers]` (digits) answer after `answer_delay` (ami-traces/configs).
LAB_ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("agents", r"noanswer", "never"),
    ("agents", r"busy", "busy"),
    ("customers", r"0699\d{6}", "never"),
    ("customers", r"0698\d{6}", "busy"),
)
ENDPOINT_BEHAVIOURS = frozenset({"never", "busy"})
#: Strategy of a queue the settings do not name (the hotline template's).
FALLBACK_STRATEGY = "rrmemory"


@dataclass(frozen=True)
class CallerProfile:
    """Someone who dials the hotline: what the dialplan learns by caller ID and by DTMF.

    `pins` holds the PIN typed at each attempt (the 2nd one after a `hotline-pin-retry`,
    and so on); an attempt with no PIN left sends an empty `Pin:`.
    """

    caller_id: str
    name: str
    account: str = ""
    pins: tuple[str, ...] = ()
    pass_digit: str = ""

    def pin_for(self, attempt: int) -> str:
        return self.pins[attempt - 1] if 0 < attempt <= len(self.pins) else ""


def _default_queues() -> dict[str, list[tuple[str, str]]]:
    return {name: list(members) for name, members in DEFAULT_QUEUES.items()}


@dataclass
class SimulatorSettings:
    """Every delay is in model seconds and runs `time_scale` times as long in real time,
    except `login_failure_delay`, which is a real-time protocol pause (Asterisk waits
    about 1 s before refusing a login, see 07-errors-badlogin)."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "callrouter"
    secret: str = "callrouter"
    #: The AMI user's `read` classes (dialplans/manager.conf [callrouter]): no dialplan
    #: (VarSet, Newexten) or dtmf events reach it. None: every class, like `read = all`.
    read_classes: frozenset[str] | None = frozenset({"call", "agent", "user", "system"})
    router_wait: float = 5.0
    time_scale: float = 1.0
    login_failure_delay: float = 1.0
    answer_delay: tuple[float, float] = (2.0, 6.0)
    talk_time: tuple[float, float] = (20.0, 120.0)
    patience: tuple[float, float] = (30.0, 240.0)
    seed: int | None = None
    queues: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=_default_queues)
    strategies: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STRATEGIES))
    #: HOTLINE_NUMBER: the DID of a call that reaches `from-trunk` as extension `s`.
    hotline_did: str = "0800100200"
    #: HOTLINE_DIGIT_TIMEOUT: seconds of silence that end a Read().
    digit_timeout: float = 6.0
    #: Sound name -> seconds it plays. DTMF keyed during a Playback() (`bienvenue`,
    #: `code-incorrect`) is lost; a Read() prompt is cut by the first digit.
    prompts: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PROMPTS))
    #: A traffic caller's keying: starts this long after the answer (or the Redirect to
    #: hotline-pin-retry), past the welcome, like the project's IVR test caller
    #: (TEST_WAIT=4); one digit every `dtmf_gap` plus the tone's 100 ms.
    dtmf_delay: float = 4.0
    dtmf_gap: float = 0.25
    #: The Asterisk kit's test caller (an Originate with Context/Exten): TEST_WAIT and
    #: TEST_STAY when the Originate does not set them.
    test_wait: float = 2.0
    test_stay: float = 30.0
    #: HOTLINE_QUEUE_TIMEOUT: Queue()'s longest wait; then `aucun-agent` plays, and hang up.
    queue_timeout: float = 600.0
    #: queuerules.conf: rule name -> (seconds, max penalty) steps; each step also raises
    #: the lower penalties to it, so ringall rings every allowed layer together.
    queue_rules: Mapping[str, Sequence[tuple[float, int]]] = field(
        default_factory=lambda: {"oncall-escalation": ((30.0, 1), (60.0, 2))}
    )
    #: ONCALL_PASS_SECS and ONCALL_PASSES of [oncall-queue]: Queue()'s timeout for one
    #: pass of the escalation chain, and the passes before the caller may leave a message.
    #: False: queue `oncall` is a plain queue, as in the lab that recorded the traces.
    oncall_escalation: bool = True
    oncall_pass_seconds: float = 90.0
    oncall_passes: int = 2
    #: ONCALL_CONFIRM_SECS: how long [oncall-confirm] waits for the technician's key.
    oncall_confirm_seconds: float = 6.0
    #: How an on-call technician's phone (Local/<number>@oncall-technician) behaves:
    #: "confirms" (answers, presses 1), "voicemail" (answers, never presses a key) or
    #: "never" (rings on). A number not listed confirms.
    technicians: Mapping[str, str] = field(default_factory=dict)
    #: Time a message sound that `prompts` does not list plays before the dialplan hangs up.
    message_time: float = 4.0
    ring_timeout: float = 15.0
    retry: float = 2.0
    #: How long the callback dialplan rings a customer (CALLBACK_RING_SECS overrides it).
    callback_ring_time: float = 20.0
    #: Who never answers and who is busy (LAB_ENDPOINTS); patterns match whole extensions.
    endpoints: Sequence[tuple[str, str, str]] = LAB_ENDPOINTS
    #: Share of generated calls that come from numbers no profile knows.
    unknown_caller_share: float = 0.2

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ConfigError(f"pbxsim time_scale must be positive, got {self.time_scale}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"pbxsim port must be 0..65535, got {self.port}")
        for label in ("answer_delay", "talk_time", "patience"):
            low, high = getattr(self, label)
            if low < 0 or high < low:
                raise ConfigError(f"pbxsim {label} must be (low, high) with 0 <= low <= high")
        for label in (
            "router_wait",
            "login_failure_delay",
            "digit_timeout",
            "dtmf_delay",
            "dtmf_gap",
            "test_wait",
            "test_stay",
            "message_time",
            "queue_timeout",
            "ring_timeout",
            "retry",
            "callback_ring_time",
        ):
            if getattr(self, label) < 0:
                raise ConfigError(f"pbxsim {label} must not be negative")
        for number, behaviour in self.technicians.items():
            if behaviour not in TECHNICIAN_BEHAVIOURS:
                raise ConfigError(
                    f"pbxsim technician {number!r} must be one of "
                    f"{', '.join(TECHNICIAN_BEHAVIOURS)}, got {behaviour!r}"
                )
        if not 0 <= self.unknown_caller_share <= 1:
            raise ConfigError("pbxsim unknown_caller_share must be between 0 and 1")
        for sound, seconds in self.prompts.items():
            if seconds < 0:
                raise ConfigError(f"pbxsim prompt {sound!r} must not play a negative time")
        for context, pattern, behaviour in self.endpoints:
            if behaviour not in ENDPOINT_BEHAVIOURS:
                raise ConfigError(
                    f"pbxsim endpoint {context}/{pattern} must be never or busy, got {behaviour!r}"
                )
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(f"pbxsim endpoint pattern {pattern!r}: {error}") from None
        for queue, strategy in self.strategies.items():
            if strategy not in STRATEGIES:
                raise ConfigError(
                    f"pbxsim strategy of queue {queue!r} must be one of "
                    f"{', '.join(sorted(STRATEGIES))}, got {strategy!r}"
                )
        for queue, members in self.queues.items():
            interfaces = [interface for interface, _ in members]
            if len(set(interfaces)) != len(interfaces):
                raise ConfigError(f"pbxsim queue {queue!r} lists an interface twice")

    def strategy(self, queue: str) -> str:
        return self.strategies.get(queue, FALLBACK_STRATEGY)
