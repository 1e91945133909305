"""How the simulated customers call again (issue 10, item 5): a caller who was served
does not call straight back; one who was not (refused, told the balance is short, nobody
answered) tries again a little later, a few times at most, then gives up for a long while.
Without it the demo's traffic drew the same customer again and again: one called the
emergency line 28 times in two simulated minutes."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
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
    """Per caller id: in a call now, when they may call again, unserved calls in a row;
    and, for the traffic's customers (`track`), which of them are free to call, so that
    drawing one costs the same whether 1 % or 99 % of them are busy or away."""

    rules: RedialRules = field(default_factory=RedialRules)
    in_call: set[str] = field(default_factory=set)
    away_until: dict[str, float] = field(default_factory=dict)
    unserved: dict[str, int] = field(default_factory=dict)
    #: The tracked customers free to call, and where each is in that list.
    _free: list[str] = field(default_factory=list)
    _free_at: dict[str, int] = field(default_factory=dict)
    #: (when, caller): tracked customers away until then (some entries stale).
    _returning: list[tuple[float, str]] = field(default_factory=list)
    _tracked: frozenset[str] = frozenset()

    def idle(self, caller: str, now: float) -> bool:
        return caller not in self.in_call and self.away_until.get(caller, 0.0) <= now

    def track(self, callers: Iterable[str], now: float) -> None:
        """The customers `draw` picks from (the traffic's known callers)."""
        self._tracked = frozenset(callers)
        self._free, self._free_at, self._returning = [], {}, []
        for caller in sorted(self._tracked):
            if self.idle(caller, now):
                self._set_free(caller)
            elif caller not in self.in_call:
                heapq.heappush(self._returning, (self.away_until[caller], caller))

    def draw(self, rng: random.Random, now: float) -> str | None:
        """A tracked customer free to call at `now`, each as likely as the others; None
        when none is."""
        returning = self._returning
        while returning and returning[0][0] <= now:
            _, caller = heapq.heappop(returning)
            if caller not in self._free_at and self.idle(caller, now):
                self._set_free(caller)
        if not self._free:
            return None
        return self._free[rng.randrange(len(self._free))]

    def called(self, caller: str) -> None:
        self.in_call.add(caller)
        self._set_busy(caller)

    def hung_up(self, caller: str, *, served: bool, now: float, retry_in: float) -> float | None:
        """Records the end of a call; returns when this caller calls back, or None."""
        self.in_call.discard(caller)
        if served:
            self.unserved.pop(caller, None)
            self._away(caller, now + self.rules.served_away)
            return None
        tries = self.unserved.get(caller, 0) + 1
        if tries > self.rules.retries:
            self.unserved.pop(caller, None)
            self._away(caller, now + self.rules.gave_up_away)
            return None
        self.unserved[caller] = tries
        self._away(caller, now + retry_in)
        return now + retry_in

    def _away(self, caller: str, until: float) -> None:
        self.away_until[caller] = until
        if caller in self._tracked:
            heapq.heappush(self._returning, (until, caller))

    def _set_free(self, caller: str) -> None:
        self._free_at[caller] = len(self._free)
        self._free.append(caller)

    def _set_busy(self, caller: str) -> None:
        at = self._free_at.pop(caller, None)
        if at is None:
            return
        # Swap with the last one: O(1), and the draw stays uniform.
        last = self._free.pop()
        if last != caller:
            self._free[at] = last
            self._free_at[last] = at
