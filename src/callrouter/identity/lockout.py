"""Lockout after repeated failed sign-ins, as a pure rule (phone PIN and web access code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    """After `max_failures` failures in a row, the channel is locked for `lock_duration`."""

    max_failures: int = 5
    lock_duration: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("lockout max_failures must be at least 1")
        if self.lock_duration <= timedelta(0):
            raise ValueError("lockout lock_duration must be positive")


@dataclass(frozen=True)
class AttemptState:
    """Failures since the last success or lock, and the end of the current lock if any.

    A success simply returns to the initial state, `AttemptState()`.
    """

    failures: int = 0
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def after_failure(policy: LockoutPolicy, state: AttemptState, now: datetime) -> AttemptState:
    """The state after a failed attempt made at `now`.

    Attempts while locked are not even checked by callers, so they neither count nor extend
    the lock. Locking restarts the count, so an expired lock gives a fresh series of tries.
    """
    if state.is_locked(now):
        return state
    failures = state.failures + 1
    if failures >= policy.max_failures:
        return AttemptState(failures=0, locked_until=now + policy.lock_duration)
    return AttemptState(failures=failures, locked_until=None)
