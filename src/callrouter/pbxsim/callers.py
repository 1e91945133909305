"""How the simulated customers call again (issue 10, item 5): a caller who was served
does not call straight back; one who was not (refused, told the balance is short, nobody
answered) tries again a little later, a few times at most, then gives up for a long while.
Without it the demo's traffic drew the same customer again and again: one called the
emergency line 28 times in two simulated minutes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RedialRules:
    #: Seconds a served caller stays away (a working day).
    served_away: float = 8 * 3600.0
    #: Calls again after an unserved call, at most this many times in a row...
    retries: int = 3
    #: ... this long later (seconds, low and high)...
    retry_after: tuple[float, float] = (60.0, 300.0)
    #: ... then stays away this long.
    gave_up_away: float = 4 * 3600.0


@dataclass
class CallerMemory:
    """Per caller id: in a call now, when they may call again, unserved calls in a row."""

    rules: RedialRules = field(default_factory=RedialRules)
    in_call: set[str] = field(default_factory=set)
    away_until: dict[str, float] = field(default_factory=dict)
    unserved: dict[str, int] = field(default_factory=dict)

    def idle(self, caller: str, now: float) -> bool:
        return caller not in self.in_call and self.away_until.get(caller, 0.0) <= now

    def called(self, caller: str) -> None:
        self.in_call.add(caller)

    def hung_up(self, caller: str, *, served: bool, now: float, retry_in: float) -> float | None:
        """Records the end of a call; returns when this caller calls back, or None."""
        self.in_call.discard(caller)
        if served:
            self.unserved.pop(caller, None)
            self.away_until[caller] = now + self.rules.served_away
            return None
        tries = self.unserved.get(caller, 0) + 1
        if tries > self.rules.retries:
            self.unserved.pop(caller, None)
            self.away_until[caller] = now + self.rules.gave_up_away
            return None
        self.unserved[caller] = tries
        self.away_until[caller] = now + retry_in
        return now + retry_in
