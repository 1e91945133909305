"""The throttle rule (identity/throttle.py): every limit, edge and doubling pinned."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from callrouter.identity.throttle import (
    Counter,
    Scope,
    SignInPolicy,
    ThrottlePolicy,
    after_failed_attempt,
    after_failure,
    blocked_until,
    default_policy,
    is_spent,
    scopes,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)
POLICY = ThrottlePolicy(
    max_failures=3, window=10 * MINUTE, base_delay=2 * MINUTE, max_delay=16 * MINUTE
)


def _fail(counter: Counter, at: datetime, times: int, policy: ThrottlePolicy = POLICY) -> Counter:
    for _ in range(times):
        counter = after_failure(policy, counter, at)
    return counter


def test_failures_below_the_limit_are_counted_in_their_window() -> None:
    assert after_failure(POLICY, Counter(), NOW) == Counter(1, NOW, None, 0)
    later = NOW + MINUTE
    assert after_failure(POLICY, Counter(1, NOW, None, 0), later) == Counter(2, NOW, None, 0)


def test_the_limit_blocks_at_exactly_n_failures_not_before() -> None:
    assert _fail(Counter(), NOW, 2) == Counter(2, NOW, None, 0)
    assert _fail(Counter(), NOW, 3) == Counter(0, None, NOW + 2 * MINUTE, 1)


def test_a_single_failure_blocks_when_the_limit_is_one() -> None:
    one = ThrottlePolicy(1, MINUTE, MINUTE, 4 * MINUTE)
    assert after_failure(one, Counter(), NOW) == Counter(0, None, NOW + MINUTE, 1)


def test_tries_while_blocked_are_not_counted_and_do_not_extend_the_block() -> None:
    blocked = _fail(Counter(), NOW, 3)
    end = NOW + 2 * MINUTE
    assert after_failure(POLICY, blocked, NOW) == blocked
    assert after_failure(POLICY, blocked, end - TICK) == blocked
    # At the very end of the block, failures count again (block_end is exclusive).
    assert after_failure(POLICY, blocked, end) == Counter(1, end, end, 1)


def test_the_window_forgets_failures_at_exactly_its_length() -> None:
    two = _fail(Counter(), NOW, 2)
    last_moment = NOW + 10 * MINUTE - TICK
    assert after_failure(POLICY, two, last_moment) == Counter(0, None, last_moment + 2 * MINUTE, 1)
    two_late = after_failure(POLICY, two, NOW + 10 * MINUTE)
    assert two_late == Counter(1, NOW + 10 * MINUTE, None, 0)


def test_each_new_block_doubles_up_to_the_cap() -> None:
    counter, at, blocks = Counter(), NOW, []
    for _ in range(6):
        counter = _fail(counter, at, 3)
        assert counter.blocked_until is not None
        blocks.append(counter.blocked_until - at)
        at = counter.blocked_until
    assert blocks == [2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE, 16 * MINUTE, 16 * MINUTE]
    assert counter.strikes == 6


def test_the_doubling_starts_over_after_a_quiet_max_delay() -> None:
    once = _fail(_fail(Counter(), NOW, 3), NOW + 2 * MINUTE, 3)
    assert once.strikes == 2 and once.blocked_until == NOW + 6 * MINUTE
    end = NOW + 6 * MINUTE
    almost = _fail(once, end + 16 * MINUTE - TICK, 3)
    assert almost.blocked_until == end + 16 * MINUTE - TICK + 8 * MINUTE
    assert almost.strikes == 3
    quiet = _fail(once, end + 16 * MINUTE, 3)
    assert quiet.blocked_until == end + 16 * MINUTE + 2 * MINUTE
    assert quiet.strikes == 1


def test_a_failure_after_a_block_keeps_its_end_and_strikes() -> None:
    end = NOW + 2 * MINUTE
    assert after_failure(POLICY, Counter(0, None, end, 1), end + MINUTE) == Counter(
        1, end + MINUTE, end, 1
    )


@pytest.mark.parametrize(
    ("strikes", "delay"),
    [(0, 2), (1, 4), (2, 8), (3, 16), (4, 16), (1000, 16)],
)
def test_delay_doubles_per_strike_and_is_capped(strikes: int, delay: int) -> None:
    assert POLICY.delay(strikes) == delay * MINUTE


def test_a_cap_between_two_doublings_is_the_cap() -> None:
    uneven = ThrottlePolicy(1, MINUTE, 15 * MINUTE, 24 * 60 * MINUTE)
    assert uneven.delay(6) == 960 * MINUTE
    assert uneven.delay(7) == 1440 * MINUTE


def test_a_counter_is_blocked_strictly_before_its_end() -> None:
    counter = Counter(blocked_until=NOW)
    assert counter.is_blocked(NOW - TICK)
    assert counter.block_end(NOW - TICK) == NOW
    assert not counter.is_blocked(NOW)
    assert counter.block_end(NOW) is None
    assert not Counter().is_blocked(NOW)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((0, MINUTE, MINUTE, MINUTE), "max_failures must be at least 1"),
        ((1, timedelta(0), MINUTE, MINUTE), "window must be positive"),
        ((1, MINUTE, timedelta(0), MINUTE), "base_delay must be positive"),
        ((1, MINUTE, 2 * MINUTE, MINUTE), "max_delay must be at least base_delay"),
    ],
)
def test_nonsense_policies_are_refused(
    fields: tuple[int, timedelta, timedelta, timedelta], message: str
) -> None:
    # The whole message: it names the field and the rule a policy's author broke.
    with pytest.raises(ValueError, match=f"^throttle {message}$"):
        ThrottlePolicy(*fields)


def test_the_smallest_valid_policy_is_accepted() -> None:
    smallest = ThrottlePolicy(1, TICK, TICK, TICK)
    assert smallest.delay(5) == TICK


def _policies() -> SignInPolicy:
    """Each scope with its own limit, to see which policy judged which counter."""
    return SignInPolicy(
        pair=ThrottlePolicy(1, MINUTE, 1 * MINUTE, 60 * MINUTE),
        source=ThrottlePolicy(1, MINUTE, 2 * MINUTE, 60 * MINUTE),
        account=ThrottlePolicy(1, MINUTE, 3 * MINUTE, 60 * MINUTE),
        overall=ThrottlePolicy(1, MINUTE, 4 * MINUTE, 60 * MINUTE),
    )


def test_each_scope_has_its_own_policy() -> None:
    policies = _policies()
    assert [policies.of(scope).base_delay for scope in Scope] == [
        1 * MINUTE,
        2 * MINUTE,
        3 * MINUTE,
        4 * MINUTE,
    ]


def test_a_known_source_is_judged_by_its_pair_only() -> None:
    assert scopes(known_source=True) == (Scope.PAIR,)
    assert scopes(known_source=False) == (Scope.PAIR, Scope.SOURCE, Scope.ACCOUNT, Scope.OVERALL)
    after = after_failed_attempt(_policies(), {}, known_source=True, now=NOW)
    assert after == {Scope.PAIR: Counter(0, None, NOW + MINUTE, 1)}


def test_an_unknown_source_counts_everywhere_each_by_its_policy() -> None:
    after = after_failed_attempt(_policies(), {}, known_source=False, now=NOW)
    assert {scope: counter.blocked_until for scope, counter in after.items()} == {
        Scope.PAIR: NOW + 1 * MINUTE,
        Scope.SOURCE: NOW + 2 * MINUTE,
        Scope.ACCOUNT: NOW + 3 * MINUTE,
        Scope.OVERALL: NOW + 4 * MINUTE,
    }


def test_the_given_counters_are_the_starting_point() -> None:
    policies = SignInPolicy(POLICY, POLICY, POLICY, POLICY)
    two = Counter(2, NOW, None, 0)
    after = after_failed_attempt(policies, {Scope.SOURCE: two}, known_source=False, now=NOW)
    assert after[Scope.SOURCE] == Counter(0, None, NOW + 2 * MINUTE, 1)
    assert after[Scope.PAIR] == Counter(1, NOW, None, 0)


def test_the_latest_block_in_force_is_the_answer() -> None:
    counters = {
        Scope.PAIR: Counter(blocked_until=NOW + MINUTE),
        Scope.SOURCE: Counter(blocked_until=NOW + 5 * MINUTE),
        Scope.ACCOUNT: Counter(blocked_until=NOW - MINUTE),
    }
    assert blocked_until(counters, known_source=False, now=NOW) == NOW + 5 * MINUTE
    assert blocked_until(counters, known_source=True, now=NOW) == NOW + MINUTE
    assert blocked_until(counters, known_source=True, now=NOW + MINUTE) is None
    assert blocked_until(counters, known_source=False, now=NOW + 5 * MINUTE) is None
    assert blocked_until({}, known_source=False, now=NOW) is None


@pytest.mark.parametrize("scope", [Scope.SOURCE, Scope.ACCOUNT, Scope.OVERALL])
def test_a_stranger_s_block_does_not_touch_a_known_source(scope: Scope) -> None:
    counters = {scope: Counter(blocked_until=NOW + MINUTE)}
    assert blocked_until(counters, known_source=True, now=NOW) is None
    assert blocked_until(counters, known_source=False, now=NOW) == NOW + MINUTE


def test_the_default_budgets() -> None:
    policy = default_policy()
    assert policy.pair == ThrottlePolicy(5, 15 * MINUTE, 15 * MINUTE, 24 * 60 * MINUTE)
    assert policy.source == ThrottlePolicy(10, 60 * MINUTE, 15 * MINUTE, 24 * 60 * MINUTE)
    assert policy.account == ThrottlePolicy(20, 60 * MINUTE, 15 * MINUTE, 4 * 60 * MINUTE)
    assert policy.overall == ThrottlePolicy(500, 15 * MINUTE, 15 * MINUTE, 15 * MINUTE)


def test_a_fresh_counter_has_nothing_against_it() -> None:
    assert Counter() == Counter(failures=0, window_started_at=None, blocked_until=None, strikes=0)


def test_rules_and_counters_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Counter().failures = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.max_failures = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_policy().pair = POLICY  # type: ignore[misc]


def test_a_counter_is_spent_once_its_window_is_over_and_its_doubling_forgiven() -> None:
    assert is_spent(POLICY, Counter(), NOW)
    counting = Counter(2, NOW, None, 0)
    assert not is_spent(POLICY, counting, NOW + 10 * MINUTE - TICK)
    assert is_spent(POLICY, counting, NOW + 10 * MINUTE)
    blocked = Counter(0, None, NOW, 3)
    assert not is_spent(POLICY, blocked, NOW + 16 * MINUTE - TICK)
    assert is_spent(POLICY, blocked, NOW + 16 * MINUTE)
    both = Counter(1, NOW + 20 * MINUTE, NOW, 1)
    assert not is_spent(POLICY, both, NOW + 16 * MINUTE)
    assert is_spent(POLICY, both, NOW + 30 * MINUTE)


def test_a_spent_counter_answers_like_a_fresh_one() -> None:
    spent = Counter(2, NOW, NOW - 16 * MINUTE, 4)
    later = NOW + 10 * MINUTE
    assert is_spent(POLICY, spent, later)
    assert (
        after_failure(POLICY, spent, later).strikes
        == after_failure(POLICY, Counter(), later).strikes
    )
    assert _fail(spent, later, 3).blocked_until == _fail(Counter(), later, 3).blocked_until
