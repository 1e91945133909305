"""The 4-hour guarantee's rules at their edges: the defaults, the smallest settings the
configuration accepts, the refusals' words, and deadlines independent of the server's zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.callbacks.rules import (
    CallbackFacts,
    CallbackPolicy,
    GuaranteeClock,
    NextStep,
    Outcome,
    Standing,
    StepKind,
    after_attempt,
    due_at,
    standing,
    warning_at,
)

WINDOW = HotlineCalendar.default().coordinators
TEN = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
TICK = timedelta(microseconds=1)


def test_the_defaults_are_the_spec_s() -> None:
    # Built here, not at import: what the constructor checks is part of the test.
    policy = CallbackPolicy()
    assert policy.guarantee == timedelta(hours=4)
    assert policy.clock is GuaranteeClock.BUSINESS_HOURS
    assert policy.retry_delay == timedelta(minutes=10)
    assert policy.max_customer_tries == 6
    assert policy.warn_before == timedelta(minutes=30)


def test_a_one_hour_guarantee_is_accepted() -> None:
    # [callbacks] guarantee_hours goes down to 1.
    policy = CallbackPolicy(guarantee=timedelta(hours=1))
    assert due_at(policy, WINDOW, TEN) == TEN + timedelta(hours=1)


def test_no_retry_delay_retries_at_once() -> None:
    # [callbacks] retry_delay_minutes = 0 is a valid setting.
    policy = CallbackPolicy(retry_delay=timedelta(0))
    step = after_attempt(Outcome.CUSTOMER_NO_ANSWER, 1, policy, TEN)
    assert step == NextStep(StepKind.RETRY_LATER, not_before=TEN)


def test_no_warning_ahead_means_at_risk_never_shows() -> None:
    policy = CallbackPolicy(warn_before=timedelta(0))
    due = TEN + timedelta(hours=1)
    assert warning_at(due, policy) == due
    assert standing(CallbackFacts(due), policy, due - TICK) is Standing.PENDING
    assert standing(CallbackFacts(due), policy, due) is Standing.BREACHED


def test_a_single_customer_try_gives_up_after_it() -> None:
    policy = CallbackPolicy(max_customer_tries=1)
    assert after_attempt(Outcome.CUSTOMER_BUSY, 1, policy, TEN) == NextStep(StepKind.GIVE_UP)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"guarantee": timedelta(0)}, "the callback guarantee must be a positive duration"),
        ({"retry_delay": -TICK}, "callback delays cannot be negative"),
        ({"warn_before": -TICK}, "callback delays cannot be negative"),
        ({"max_customer_tries": 0}, "a callback needs at least one try"),
    ],
)
def test_a_refusal_says_which_rule_is_broken(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        CallbackPolicy(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_a_naive_opening_is_refused_in_words() -> None:
    with pytest.raises(ValueError) as caught:
        due_at(CallbackPolicy(), WINDOW, datetime(2026, 12, 1, 17, 0))
    assert str(caught.value) == "a callback opens at a timezone-aware instant"


@pytest.fixture
def server_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is not the hotline's (POSIX rule: no tzdata needed)."""
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_in_new_york")
def test_a_wall_clock_deadline_is_in_utc_whatever_the_server_s_zone() -> None:
    policy = CallbackPolicy(clock=GuaranteeClock.WALL_CLOCK)
    due = due_at(policy, WINDOW, TEN)
    assert due.isoformat() == "2026-12-01T13:00:00+00:00"
