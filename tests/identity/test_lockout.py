"""The lockout rule: N failures in a row lock the channel for M minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrouter.identity.lockout import AttemptState, LockoutPolicy, after_failure

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(max_failures=3, lock_duration=timedelta(minutes=10))


def test_failures_below_the_limit_only_count() -> None:
    state = after_failure(POLICY, after_failure(POLICY, AttemptState(), NOW), NOW)
    assert state == AttemptState(failures=2)
    assert not state.is_locked(NOW)


def test_the_last_allowed_failure_locks_for_the_duration() -> None:
    state = AttemptState(failures=2)
    locked = after_failure(POLICY, state, NOW)
    assert locked.is_locked(NOW)
    assert locked.is_locked(NOW + timedelta(minutes=9, seconds=59))
    assert not locked.is_locked(NOW + timedelta(minutes=10))


def test_failures_during_a_lock_neither_count_nor_extend_it() -> None:
    locked = AttemptState(failures=0, locked_until=NOW + timedelta(minutes=5))
    assert after_failure(POLICY, locked, NOW) == locked


def test_an_expired_lock_gives_a_fresh_series_of_tries() -> None:
    expired = AttemptState(failures=0, locked_until=NOW - timedelta(seconds=1))
    state = after_failure(POLICY, expired, NOW)
    assert state == AttemptState(failures=1)


def test_locking_restarts_the_count() -> None:
    locked = after_failure(POLICY, AttemptState(failures=2), NOW)
    assert locked == AttemptState(failures=0, locked_until=NOW + timedelta(minutes=10))
    # When the lock has run out, the holder has a whole new series of tries.
    later = NOW + timedelta(minutes=10)
    state = after_failure(POLICY, after_failure(POLICY, locked, later), later)
    assert state == AttemptState(failures=2)
    assert not state.is_locked(later)


def test_a_single_failure_can_be_the_limit() -> None:
    policy = LockoutPolicy(max_failures=1, lock_duration=timedelta(minutes=10))
    locked = after_failure(policy, AttemptState(), NOW)
    assert locked == AttemptState(failures=0, locked_until=NOW + timedelta(minutes=10))


def test_defaults_are_five_failures_and_fifteen_minutes() -> None:
    assert LockoutPolicy() == LockoutPolicy(5, timedelta(minutes=15))


@pytest.mark.parametrize(("failures", "duration"), [(0, timedelta(minutes=1)), (3, timedelta(0))])
def test_a_policy_that_could_never_lock_is_refused(failures: int, duration: timedelta) -> None:
    with pytest.raises(ValueError, match="lockout"):
        LockoutPolicy(max_failures=failures, lock_duration=duration)
