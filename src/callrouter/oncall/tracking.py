"""Each emergency's escalation, followed from the PBX's events (issue 10, item 4).

Asterisk runs the chain (escalation.py); callrouter watches it: which layer has been rung,
which pass, how long the caller has waited, who declined (a voicemail) and who confirmed.
Events, in the order app_queue and the dialplan send them:

- QueueCallerJoin (queue oncall): an emergency starts, or its next pass does;
- UserEvent OnCallPass: the pass number;
- AgentCalled: a member rings; its layer is its penalty, read from the member events
  (QueueMemberAdded, QueueMemberPenalty, QueueMemberStatus) and QueueStatus;
- UserEvent OnCallDeclined / OnCallConfirmed: the technician's key (or none);
- AgentConnect: the caller hears the technician;
- QueueCallerAbandon: the caller hung up in the queue;
- UserEvent OnCallUnanswered: nobody confirmed; a callback is owed;
- Hangup of the caller's channel: the emergency is over.

Pure: `on_event` returns the steps, which the caller logs and stores.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from callrouter.ami.message import Message
from callrouter.oncall.escalation import ESCALATION_ORDER, EscalationPolicy, layer_of_penalty
from callrouter.oncall.roster import Layer

_MEMBER_EVENTS = frozenset({"QueueMemberAdded", "QueueMemberPenalty", "QueueMemberStatus"})
#: Every event the tracking reads: the others are skipped by name, unparsed (the AMI
#: reader calls it with every event, at hundreds of calls a second).
_READ = _MEMBER_EVENTS | {
    "UserEvent",
    "Hangup",
    "QueueCallerJoin",
    "AgentCalled",
    "AgentConnect",
    "QueueCallerAbandon",
}


class EscalationState(enum.StrEnum):
    WAITING = "waiting"
    CONFIRMED = "confirmed"
    CONNECTED = "connected"
    ABANDONED = "abandoned"
    UNANSWERED = "unanswered"


class StepKind(enum.StrEnum):
    JOINED = "joined"
    PASS = "pass"
    RINGING = "ringing"
    ESCALATED = "escalated"
    DECLINED = "declined"
    CONFIRMED = "confirmed"
    CONNECTED = "connected"
    ABANDONED = "abandoned"
    UNANSWERED = "unanswered"
    ENDED = "ended"
    #: found waiting in the queue after a login: callrouter was away or the link dropped
    FOUND = "found"


@dataclass(frozen=True)
class Escalation:
    """One emergency as it stands. `layer` is the widest layer rung in this pass."""

    caller_uniqueid: str
    caller_id: str
    channel: str
    started_at: datetime
    pass_started_at: datetime
    pass_number: int = 1
    layer: Layer = Layer.PRIMARY
    state: EscalationState = EscalationState.WAITING
    technician: str | None = None

    def waited(self, now: datetime) -> float:
        return max((now - self.started_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class EscalationStep:
    """What happened, with the escalation as it is after it."""

    kind: StepKind
    at: datetime
    escalation: Escalation
    technician: str | None = None

    @property
    def waited(self) -> float:
        return self.escalation.waited(self.at)


class EscalationTracker:
    def __init__(self, queue: str, policy: EscalationPolicy) -> None:
        self._queue = queue
        self._policy = policy
        self._live: dict[str, Escalation] = {}
        self._penalties: dict[str, int] = {}
        self._rung: dict[str, set[str]] = {}

    def live(self) -> list[Escalation]:
        return sorted(self._live.values(), key=lambda e: e.started_at)

    @staticmethod
    def reads(name: str) -> bool:
        """Whether events of that name can change anything here: the others need no clock
        reading (the AMI reader delivers ~20 events per call)."""
        return name in _READ

    def on_event(self, event: Message, now: datetime) -> list[EscalationStep]:
        name = event.name
        if name not in _READ or (name == "Hangup" and not self._live):
            return []
        if name in _MEMBER_EVENTS:
            self._learn_penalty(event)
            return []
        if name == "UserEvent":
            return self._user_event(event, now)
        if name == "Hangup":
            return self._hangup(event.get("Uniqueid") or "", now)
        if event.get("Queue") != self._queue:
            return []
        uniqueid = event.get("Uniqueid") or ""
        if name == "QueueCallerJoin":
            return self._joined(event, uniqueid, now)
        current = self._live.get(uniqueid)
        if current is None:
            return []
        if name == "AgentCalled":
            return self._called(current, event.get("Interface") or "", event, now)
        if name == "AgentConnect":
            member = event.get("MemberName") or event.get("Interface")
            return self._step(
                StepKind.CONNECTED,
                now,
                replace(current, state=EscalationState.CONNECTED, technician=member),
                member,
            )
        if name == "QueueCallerAbandon":
            return self._step(
                StepKind.ABANDONED, now, replace(current, state=EscalationState.ABANDONED)
            )
        return []

    def resync(self, items: Iterable[Message], now: datetime) -> list[EscalationStep]:
        """After a login, from a QueueStatus answer: the members' penalties, the callers
        waiting that callrouter did not see join (their wait gives their step), and the
        emergencies that ended while the link was down."""
        steps: list[EscalationStep] = []
        waiting: set[str] = set()
        for item in items:
            if item.get("Queue") != self._queue:
                continue
            if item.name == "QueueMember":
                penalty = item.get("Penalty") or "0"
                self._penalties[item.get("Location") or ""] = (
                    int(penalty) if penalty.isdigit() else 0
                )
            elif item.name == "QueueEntry":
                uniqueid = item.get("Uniqueid") or ""
                waiting.add(uniqueid)
                if uniqueid not in self._live:
                    steps += self._found(item, uniqueid, now)
        for uniqueid, escalation in list(self._live.items()):
            if uniqueid not in waiting and escalation.state is EscalationState.WAITING:
                steps += self._hangup(uniqueid, now)
        return steps

    # -- events -----------------------------------------------------------------------------

    def _learn_penalty(self, event: Message) -> None:
        if event.get("Queue") != self._queue:
            return
        interface, penalty = event.get("Interface") or "", event.get("Penalty")
        if interface and penalty is not None and penalty.isdigit():
            self._penalties[interface] = int(penalty)

    def _joined(self, event: Message, uniqueid: str, now: datetime) -> list[EscalationStep]:
        current = self._live.get(uniqueid)
        self._rung[uniqueid] = set()
        if current is not None:
            # the next pass: app_queue starts again from the primary
            again = replace(current, pass_started_at=now, layer=Layer.PRIMARY)
            self._live[uniqueid] = again
            return []
        started = Escalation(
            caller_uniqueid=uniqueid,
            caller_id=event.get("CallerIDNum") or "",
            channel=event.get("Channel") or "",
            started_at=now,
            pass_started_at=now,
        )
        return self._step(StepKind.JOINED, now, started)

    def _found(self, item: Message, uniqueid: str, now: datetime) -> list[EscalationStep]:
        wait = item.get("Wait") or "0"
        waited = int(wait) if wait.isdigit() else 0
        since = now - timedelta(seconds=waited)
        found = Escalation(
            caller_uniqueid=uniqueid,
            caller_id=item.get("CallerIDNum") or "",
            channel=item.get("Channel") or "",
            started_at=since,
            pass_started_at=since,
            layer=self._policy.layer_after(waited),
        )
        self._rung[uniqueid] = set()
        return self._step(StepKind.FOUND, now, found)

    def _called(
        self, current: Escalation, interface: str, event: Message, now: datetime
    ) -> list[EscalationStep]:
        rung = self._rung.setdefault(current.caller_uniqueid, set())
        if interface in rung:
            return []  # the next ring round: nothing new
        rung.add(interface)
        member = event.get("MemberName") or interface
        layer = layer_of_penalty(self._penalties.get(interface, 0)) or Layer.PRIMARY
        steps = self._step(StepKind.RINGING, now, current, member)
        if ESCALATION_ORDER.index(layer) > ESCALATION_ORDER.index(current.layer):
            steps += self._step(StepKind.ESCALATED, now, replace(current, layer=layer), member)
        return steps

    def _user_event(self, event: Message, now: datetime) -> list[EscalationStep]:
        kind = event.get("UserEvent")
        uniqueid = event.get("CallerUniqueid") or ""
        current = self._live.get(uniqueid)
        if current is None and kind == "OnCallUnanswered" and uniqueid:
            # nobody on call: the caller was never queued (JOINEMPTY), the event is theirs
            current = Escalation(
                caller_uniqueid=uniqueid,
                caller_id=event.get("Caller") or event.get("CallerIDNum") or "",
                channel=event.get("Channel") or "",
                started_at=now,
                pass_started_at=now,
            )
        if current is None:
            return []
        technician = event.get("Technician")
        if kind == "OnCallPass":
            number = event.get("Pass") or "1"
            if not number.isdigit() or int(number) <= 1:
                return []
            return self._step(StepKind.PASS, now, replace(current, pass_number=int(number)))
        if kind == "OnCallDeclined":
            return self._step(StepKind.DECLINED, now, current, technician)
        if kind == "OnCallConfirmed":
            confirmed = replace(current, state=EscalationState.CONFIRMED, technician=technician)
            return self._step(StepKind.CONFIRMED, now, confirmed, technician)
        if kind == "OnCallUnanswered":
            unanswered = replace(current, state=EscalationState.UNANSWERED)
            return self._step(StepKind.UNANSWERED, now, unanswered)
        return []

    def _hangup(self, uniqueid: str, now: datetime) -> list[EscalationStep]:
        current = self._live.pop(uniqueid, None)
        self._rung.pop(uniqueid, None)
        if current is None:
            return []
        return [EscalationStep(StepKind.ENDED, now, current)]

    def _step(
        self, kind: StepKind, now: datetime, escalation: Escalation, technician: str | None = None
    ) -> list[EscalationStep]:
        self._live[escalation.caller_uniqueid] = escalation
        return [EscalationStep(kind, now, escalation, technician)]
