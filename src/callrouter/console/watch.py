"""What the console remembers besides the live view: the PBX link's state, the latest
routing decisions and fail-safes, and each routed call's pass (the queue only knows its
priority). Fed by the hotline's hooks (router record callback, AMI link handlers)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from callrouter.clock import Clock
from callrouter.console.panel import DECISIONS, LINK
from callrouter.routing.service import RoutedCall

#: Decisions and fail-safes the console keeps.
RECENT = 20
#: Passes remembered by caller uniqueid (a caller waits far less than this many calls).
_PASSES = 20_000


@dataclass(frozen=True)
class DecisionLine:
    decided_at: datetime
    caller_id: str
    chosen_pass: str | None
    window: str
    target: str
    queue: str | None
    reason: str
    latency_ms: float


@dataclass(frozen=True)
class Failsafe:
    at: datetime
    uniqueid: str


class Watch:
    def __init__(self, clock: Clock, changed: Callable[[str], None]) -> None:
        self._clock = clock
        self._changed = changed
        self.link_up = False
        self.link_since: datetime | None = None
        self.link_drops = 0
        self.decisions: deque[DecisionLine] = deque(maxlen=RECENT)
        self.failsafes: deque[Failsafe] = deque(maxlen=RECENT)
        self._passes: OrderedDict[str, str] = OrderedDict()

    def routed(self, routed: RoutedCall) -> None:
        call, decision = routed.call, routed.decision
        chosen = routed.chosen_pass.value if routed.chosen_pass else None
        self.decisions.appendleft(
            DecisionLine(
                decided_at=routed.decided_at,
                caller_id=call.caller_id,
                chosen_pass=chosen,
                window=decision.window,
                target=decision.target.value,
                queue=decision.queue,
                reason=decision.reason,
                latency_ms=routed.latency_ms,
            )
        )
        if chosen is not None:
            self._passes[call.uniqueid] = chosen
            if len(self._passes) > _PASSES:
                self._passes.popitem(last=False)
        self._changed(DECISIONS)

    def failsafe(self, uniqueid: str) -> None:
        self.failsafes.appendleft(Failsafe(self._clock.now(), uniqueid))
        self._changed(DECISIONS)

    def pass_of(self, uniqueid: str) -> str | None:
        return self._passes.get(uniqueid)

    def connected(self) -> None:
        self._link(True)

    def disconnected(self) -> None:
        self.link_drops += 1
        self._link(False)

    def _link(self, up: bool) -> None:
        self.link_up = up
        self.link_since = self._clock.now()
        self._changed(LINK)
