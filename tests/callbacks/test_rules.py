"""The 4-hour guarantee: deadlines, breach edges, attempts and what a supervisor sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    customer_leg_outcome,
    due_at,
    expert_leg_outcome,
    is_breached,
    standing,
    warning_at,
)

WINDOW = HotlineCalendar.default().coordinators
POLICY = CallbackPolicy()
WALL = CallbackPolicy(clock=GuaranteeClock.WALL_CLOCK)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        # SPEC "Pass 4H": a call at 17:00 is due at 11:00 the next business day.
        (paris(2026, 12, 1, 17, 0), paris(2026, 12, 2, 11, 0)),
        (paris(2026, 12, 1, 9, 30), paris(2026, 12, 1, 13, 30)),
        (paris(2026, 12, 1, 14, 0), paris(2026, 12, 1, 18, 0)),
        (paris(2026, 12, 1, 14, 1), paris(2026, 12, 2, 8, 1)),
        # Friday 16:00 before Easter Monday 2027: 2 hours Friday, 2 hours Tuesday.
        (paris(2027, 3, 26, 16, 0), paris(2027, 3, 30, 10, 0)),
        # Opened at night: the clock starts at the next opening.
        (paris(2026, 12, 1, 22, 0), paris(2026, 12, 2, 12, 0)),
        # Friday before the autumn DST change: Monday 11:00 local (CET, UTC+1).
        (paris(2026, 10, 23, 17, 0), paris(2026, 10, 26, 11, 0)),
        # Friday before the spring change: Monday 11:00 local (CEST, UTC+2).
        (paris(2027, 3, 26, 17, 0), paris(2027, 3, 30, 11, 0)),
    ],
)
def test_due_in_business_hours(opened: datetime, due: datetime) -> None:
    assert due_at(POLICY, WINDOW, opened) == due


def test_due_on_the_wall_clock_counts_real_hours_across_dst() -> None:
    # 23:00 CEST on the night clocks go back: 4 real hours later it is 02:00 CET.
    opened = paris(2026, 10, 24, 23, 0)
    due = due_at(WALL, WINDOW, opened)
    assert due - opened.astimezone(UTC) == timedelta(hours=4)
    assert due.astimezone(PARIS).hour == 2
    # The spring night: 00:30 CET + 4 real hours = 05:30 CEST.
    assert due_at(WALL, WINDOW, paris(2027, 3, 28, 0, 30)).astimezone(PARIS).hour == 5


def test_a_naive_opening_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(POLICY, WINDOW, datetime(2026, 12, 1, 17, 0))


def test_met_at_3h59_is_not_breached_and_4h00_is() -> None:
    opened = paris(2026, 12, 1, 9, 0)
    due = due_at(POLICY, WINDOW, opened)
    assert not is_breached(due, opened + timedelta(hours=3, minutes=59), due + timedelta(hours=1))
    assert is_breached(due, due, due)
    assert is_breached(due, None, due)
    assert not is_breached(due, None, due - timedelta(microseconds=1))
    # Met late is still a breach.
    assert is_breached(due, due + timedelta(minutes=5), due + timedelta(minutes=6))


def test_what_a_supervisor_sees() -> None:
    due = paris(2026, 12, 1, 13, 0)
    now = paris(2026, 12, 1, 12, 0)
    assert standing(CallbackFacts(due), POLICY, now) is Standing.PENDING
    assert standing(CallbackFacts(due), POLICY, paris(2026, 12, 1, 12, 30)) is Standing.AT_RISK
    assert standing(CallbackFacts(due), POLICY, paris(2026, 12, 1, 12, 29)) is Standing.PENDING
    busy = CallbackFacts(due, attempt_under_way=True)
    assert standing(busy, POLICY, paris(2026, 12, 1, 12, 45)) is Standing.DIALLING
    met = CallbackFacts(due, connected_at=paris(2026, 12, 1, 12, 50))
    assert standing(met, POLICY, paris(2026, 12, 1, 14, 0)) is Standing.MET
    late = CallbackFacts(due, connected_at=due)
    assert standing(late, POLICY, due) is Standing.BREACHED
    assert standing(CallbackFacts(due), POLICY, due) is Standing.BREACHED
    assert standing(busy, POLICY, due) is Standing.BREACHED
    cancelled = CallbackFacts(due, cancelled=True)
    assert standing(cancelled, POLICY, due + timedelta(hours=1)) is Standing.CANCELLED
    assert warning_at(due, POLICY) == paris(2026, 12, 1, 12, 30)


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        (4, None),
        (3, Outcome.EXPERT_NO_ANSWER),
        (1, Outcome.EXPERT_NO_ANSWER),
        (5, Outcome.EXPERT_BUSY),
        (8, Outcome.EXPERT_BUSY),
        (0, Outcome.FAILED),
        (2, Outcome.FAILED),
    ],
)
def test_the_expert_leg_from_originate_reasons(reason: int, outcome: Outcome | None) -> None:
    assert expert_leg_outcome(reason) is outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("ANSWER", Outcome.CONNECTED),
        ("NOANSWER", Outcome.CUSTOMER_NO_ANSWER),
        ("BUSY", Outcome.CUSTOMER_BUSY),
        ("CONGESTION", Outcome.CUSTOMER_BUSY),
        ("CHANUNAVAIL", Outcome.CUSTOMER_BUSY),
        ("CANCEL", Outcome.FAILED),
        (" answer ", Outcome.CONNECTED),
        ("", Outcome.FAILED),
    ],
)
def test_the_customer_leg_from_dial_status(status: str, outcome: Outcome) -> None:
    assert customer_leg_outcome(status) is outcome


def test_what_follows_an_attempt() -> None:
    now = paris(2026, 12, 1, 10, 0)
    assert after_attempt(Outcome.CONNECTED, 1, POLICY, now) == NextStep(StepKind.DONE)
    for expert_side in (Outcome.EXPERT_NO_ANSWER, Outcome.EXPERT_BUSY, Outcome.FAILED):
        # The expert's failure does not spend the customer's tries, even the last one.
        step = after_attempt(expert_side, POLICY.max_customer_tries, POLICY, now)
        assert step == NextStep(StepKind.NEXT_EXPERT, not_before=now)
    retry = after_attempt(Outcome.CUSTOMER_NO_ANSWER, 1, POLICY, now)
    assert retry == NextStep(StepKind.RETRY_LATER, not_before=now + timedelta(minutes=10))
    busy = after_attempt(Outcome.CUSTOMER_BUSY, POLICY.max_customer_tries - 1, POLICY, now)
    assert busy.kind is StepKind.RETRY_LATER
    last = after_attempt(Outcome.CUSTOMER_BUSY, POLICY.max_customer_tries, POLICY, now)
    assert last == NextStep(StepKind.GIVE_UP)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"guarantee": timedelta(0)},
        {"retry_delay": timedelta(minutes=-1)},
        {"warn_before": timedelta(minutes=-1)},
        {"max_customer_tries": 0},
    ],
)
def test_a_policy_that_cannot_work_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CallbackPolicy(**kwargs)  # type: ignore[arg-type]
