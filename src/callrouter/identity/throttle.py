"""Throttling of wrong PINs and web codes, as pure rules: it hurts the guesser, not the holder.

Failures are counted in four places, each with its own budget:

- the pair (account number as typed, source): a person who mistypes, or a stranger trying
  one account from one phone or address;
- the source (caller ID on the phone, client address on the web) over every account: one
  PIN sprayed over many accounts from one line;
- the account over every source it does not know: many lines against one account;
- the whole hotline over every unknown source: the last line against spoofed caller IDs.

A source is *known* to an account when it has proven itself (a confirmed beneficiary's
number, or an earlier success from that source on that account). A known source is judged
by its own pair counter only, so a stranger's failures can never keep a holder out of
their own account from their own phone or address. Every block is a back-off that doubles
at each new block and is capped, so nothing is ever locked for good. The account key is
the number *as typed*, existing or not: an invented number is throttled exactly like a
real one, so being blocked says nothing about which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Scope(StrEnum):
    PAIR = "pair"
    SOURCE = "source"
    ACCOUNT = "account"
    OVERALL = "overall"


@dataclass(frozen=True)
class ThrottlePolicy:
    """`max_failures` failures within `window` of the first one block the key for
    `base_delay`, doubled at each further block up to `max_delay`. After `max_delay`
    without any failure past the end of the last block, the doubling starts over."""

    max_failures: int
    window: timedelta
    base_delay: timedelta
    max_delay: timedelta

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("throttle max_failures must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("throttle window must be positive")
        if self.base_delay <= timedelta(0):
            raise ValueError("throttle base_delay must be positive")
        if self.max_delay < self.base_delay:
            raise ValueError("throttle max_delay must be at least base_delay")

    def delay(self, strikes: int) -> timedelta:
        """The block after `strikes` earlier blocks: base, 2 x base, 4 x base ... capped."""
        delay = self.base_delay
        while strikes > 0 and delay < self.max_delay:
            delay *= 2
            strikes -= 1
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class Counter:
    """Failures of one key in its current window; `blocked_until` is the end of the latest
    block (kept after it ends, to know when the doubling may start over)."""

    failures: int = 0
    window_started_at: datetime | None = None
    blocked_until: datetime | None = None
    strikes: int = 0

    def block_end(self, now: datetime) -> datetime | None:
        """The end of the block in force at `now`, if any."""
        if self.blocked_until is not None and now < self.blocked_until:
            return self.blocked_until
        return None

    def is_blocked(self, now: datetime) -> bool:
        return self.block_end(now) is not None


def after_failure(policy: ThrottlePolicy, counter: Counter, now: datetime) -> Counter:
    """The counter after a failure at `now`.

    An attempt made while blocked is refused unchecked, so it is never counted here: it
    neither extends the block nor adds to the next one.
    """
    if counter.is_blocked(now):
        return counter
    strikes = counter.strikes
    if counter.blocked_until is not None and now >= counter.blocked_until + policy.max_delay:
        strikes = 0
    started = counter.window_started_at
    failures = counter.failures
    if started is None or now >= started + policy.window:
        started, failures = now, 0
    failures += 1
    if failures >= policy.max_failures:
        return Counter(0, None, now + policy.delay(strikes), strikes + 1)
    return Counter(failures, started, counter.blocked_until, strikes)


def is_spent(policy: ThrottlePolicy, counter: Counter, now: datetime) -> bool:
    """True when the counter no longer changes any answer: not blocked, its window over, its
    doubling forgiven. It then behaves exactly like `Counter()` and can be forgotten."""
    window_over = counter.window_started_at is None or now >= (
        counter.window_started_at + policy.window
    )
    forgiven = counter.blocked_until is None or now >= counter.blocked_until + policy.max_delay
    return window_over and forgiven


@dataclass(frozen=True)
class SignInPolicy:
    """The four budgets of one channel (phone PIN or web code)."""

    pair: ThrottlePolicy
    source: ThrottlePolicy
    account: ThrottlePolicy
    overall: ThrottlePolicy

    def of(self, scope: Scope) -> ThrottlePolicy:
        return {
            Scope.PAIR: self.pair,
            Scope.SOURCE: self.source,
            Scope.ACCOUNT: self.account,
            Scope.OVERALL: self.overall,
        }[scope]


def scopes(*, known_source: bool) -> tuple[Scope, ...]:
    """The counters that judge an attempt: a known source answers for its pair only."""
    if known_source:
        return (Scope.PAIR,)
    return (Scope.PAIR, Scope.SOURCE, Scope.ACCOUNT, Scope.OVERALL)


def blocked_until(
    counters: dict[Scope, Counter], *, known_source: bool, now: datetime
) -> datetime | None:
    """When the attempt may be checked again, or None if it may be checked now (a counter
    not given has no failures)."""
    ends = [
        end
        for scope in scopes(known_source=known_source)
        if (end := counters.get(scope, Counter()).block_end(now)) is not None
    ]
    return max(ends, default=None)


def after_failed_attempt(
    policy: SignInPolicy, counters: dict[Scope, Counter], *, known_source: bool, now: datetime
) -> dict[Scope, Counter]:
    """The counters a failure changes, with their new values."""
    return {
        scope: after_failure(policy.of(scope), counters.get(scope, Counter()), now)
        for scope in scopes(known_source=known_source)
    }


def default_policy() -> SignInPolicy:
    """Phone PINs and web codes alike. The pair blocks on the 5th failure within 15 minutes,
    as the old per-account lockout did, but now only that line or address on that account;
    a line or address trying many accounts blocks on its 10th failure within the hour."""
    return SignInPolicy(
        pair=ThrottlePolicy(5, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=24)),
        source=ThrottlePolicy(10, timedelta(hours=1), timedelta(minutes=15), timedelta(hours=24)),
        account=ThrottlePolicy(20, timedelta(hours=1), timedelta(minutes=15), timedelta(hours=4)),
        # Not doubled: it only delays first-time callers while an attack goes on.
        overall=ThrottlePolicy(
            500, timedelta(minutes=15), timedelta(minutes=15), timedelta(minutes=15)
        ),
    )
