"""Where each caller goes, by hour, pass, identification and balance."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

import pytest

from callrouter.calendar import PARIS, HotlineCalendar, TimeRange, WeeklyWindow
from callrouter.passes import Pass
from callrouter.routing.decision import (
    Caller,
    CallerStatus,
    QueueLoad,
    RoutingDecision,
    RoutingPolicy,
    Target,
    decide,
    pass_from_digit,
)

CALENDAR = HotlineCalendar.default()
POLICY = RoutingPolicy()
CUSTOMER = Caller(CallerStatus.PIN_ACCEPTED, account_number="100042", beneficiary="Jeanne Roux")
STAFFED = MappingProxyType(
    {
        "coordinators": QueueLoad(members=3, available=2, waiting=0),
        "oncall": QueueLoad(members=1, available=1, waiting=0),
    }
)

TUESDAY_10H = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
TUESDAY_20H = datetime(2026, 3, 10, 20, 0, tzinfo=PARIS)
SATURDAY_10H = datetime(2026, 3, 14, 10, 0, tzinfo=PARIS)
EASTER_MONDAY_10H = datetime(2026, 4, 6, 10, 0, tzinfo=PARIS)


def route(
    now: datetime,
    caller: Caller = CUSTOMER,
    chosen_pass: Pass | None = Pass.FOUR_HOURS,
    attempt: int = 1,
    queues: MappingProxyType[str, QueueLoad] = STAFFED,
    policy: RoutingPolicy = POLICY,
    calendar: HotlineCalendar = CALENDAR,
) -> RoutingDecision:
    return decide(now, calendar, caller, chosen_pass, attempt, queues, policy)


@pytest.mark.parametrize(
    ("chosen_pass", "priority"),
    [(Pass.FOUR_HOURS, 0), (Pass.APPOINTMENT, 0), (Pass.PRIORITY, 10)],
)
def test_in_hours_every_pass_goes_to_the_coordinators(chosen_pass: Pass, priority: int) -> None:
    decision = route(TUESDAY_10H, chosen_pass=chosen_pass)
    assert decision.target is Target.COORDINATORS_QUEUE
    assert decision.window == "coordinators"
    assert (decision.context, decision.exten, decision.priority) == ("queue-coordinators", "s", 1)
    assert decision.queue == "coordinators"
    assert decision.queue_priority == priority
    assert decision.variables == (
        ("HOTLINE_ROUTE", "coordinators-queue"),
        ("QUEUE_PRIO", str(priority)),
    )
    assert decision.message_fr is None
    assert decision.reason == f"pass-{chosen_pass.value}"


def test_a_recognised_caller_id_is_as_good_as_a_pin() -> None:
    caller = Caller(CallerStatus.RECOGNISED, account_number="100042")
    assert route(TUESDAY_10H, caller).target is Target.COORDINATORS_QUEUE


def test_priorities_come_from_the_policy() -> None:
    policy = RoutingPolicy(priorities={Pass.FOUR_HOURS: 1, Pass.APPOINTMENT: 2, Pass.PRIORITY: 7})
    assert route(TUESDAY_10H, chosen_pass=Pass.APPOINTMENT, policy=policy).queue_priority == 2
    assert route(TUESDAY_10H, chosen_pass=Pass.PRIORITY, policy=policy).queue_priority == 7


@pytest.mark.parametrize("now", [TUESDAY_20H, SATURDAY_10H, EASTER_MONDAY_10H])
def test_out_of_hours_priority_callers_reach_the_on_call_queue(now: datetime) -> None:
    decision = route(now, chosen_pass=Pass.PRIORITY)
    assert decision.target is Target.ONCALL_QUEUE
    assert decision.window == "on-call"
    assert decision.context == "queue-oncall"
    assert decision.queue == "oncall"
    assert decision.queue_priority == 10
    assert decision.variables == (("HOTLINE_ROUTE", "oncall-queue"), ("QUEUE_PRIO", "10"))
    assert decision.reason == "emergency"


@pytest.mark.parametrize(
    ("now", "chosen_pass", "opens_at"),
    [
        (TUESDAY_20H, Pass.FOUR_HOURS, datetime(2026, 3, 11, 8, 0, tzinfo=PARIS)),
        (SATURDAY_10H, Pass.APPOINTMENT, datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)),
        (EASTER_MONDAY_10H, Pass.FOUR_HOURS, datetime(2026, 4, 7, 8, 0, tzinfo=PARIS)),
        (
            datetime(2026, 3, 10, 18, 0, tzinfo=PARIS),
            None,
            datetime(2026, 3, 11, 8, 0, tzinfo=PARIS),
        ),
    ],
)
def test_out_of_hours_other_callers_hear_the_hours(
    now: datetime, chosen_pass: Pass | None, opens_at: datetime
) -> None:
    decision = route(now, chosen_pass=chosen_pass)
    assert decision.target is Target.CLOSED_MESSAGE
    assert (decision.context, decision.exten, decision.priority) == ("hotline-message", "s", 1)
    assert decision.variables == (
        ("HOTLINE_ROUTE", "closed-message"),
        ("HOTLINE_MESSAGE", "callrouter/closed-hours"),
        ("HOTLINE_OPENS_AT", str(int(opens_at.timestamp()))),
    )
    assert decision.queue is None and decision.queue_priority is None
    assert decision.window == "on-call"
    effective = chosen_pass or Pass.FOUR_HOURS
    assert decision.reason == f"closed-hours, no emergency service with pass-{effective.value}"
    assert decision.message_fr is not None
    assert "du lundi au vendredi de 8h à 18h" in decision.message_fr
    assert "Pass prioritaire" in decision.message_fr


def test_the_closed_message_word_for_word() -> None:
    assert route(TUESDAY_20H).message_fr == (
        "Notre service d'assistance est actuellement fermé. Nos coordinateurs vous répondent "
        "du lundi au vendredi de 8h à 18h, hors jours fériés. Prochaine ouverture : "
        "mercredi 11 mars à 8h. L'assistance d'urgence, la nuit, le week-end et les jours "
        "fériés, est réservée au Pass prioritaire."
    )


def test_closed_message_names_the_next_opening() -> None:
    decision = route(EASTER_MONDAY_10H)
    assert decision.message_fr is not None
    assert "Prochaine ouverture : mardi 7 avril à 8h." in decision.message_fr


def test_closed_at_exactly_six_and_open_at_exactly_eight() -> None:
    assert route(datetime(2026, 3, 10, 18, 0, tzinfo=PARIS)).target is Target.CLOSED_MESSAGE
    assert route(datetime(2026, 3, 10, 17, 59, 59, tzinfo=PARIS)).target is (
        Target.COORDINATORS_QUEUE
    )
    assert route(datetime(2026, 3, 10, 8, 0, tzinfo=PARIS)).target is Target.COORDINATORS_QUEUE
    assert route(datetime(2026, 3, 10, 7, 59, 59, tzinfo=PARIS)).target is Target.CLOSED_MESSAGE


def test_no_pass_chosen_is_the_default_pass() -> None:
    assert route(TUESDAY_10H, chosen_pass=None).reason == "pass-4h"
    policy = RoutingPolicy(default_pass=Pass.PRIORITY)
    night = route(TUESDAY_20H, chosen_pass=None, policy=policy)
    assert night.target is Target.ONCALL_QUEUE


@pytest.mark.parametrize(
    ("digit", "expected"),
    [
        ("1", Pass.FOUR_HOURS),
        ("2", Pass.APPOINTMENT),
        ("3", Pass.PRIORITY),
        (" 3 ", Pass.PRIORITY),
        ("", None),
        ("9", None),
        ("*", None),
        ("12", None),
    ],
)
def test_pass_from_digit(digit: str, expected: Pass | None) -> None:
    assert pass_from_digit(digit, POLICY.pass_digits) is expected


def test_a_bad_digit_routes_like_the_default_pass() -> None:
    chosen = pass_from_digit("7", POLICY.pass_digits)
    assert route(TUESDAY_10H, chosen_pass=chosen).queue_priority == 0
    assert route(TUESDAY_20H, chosen_pass=chosen).target is Target.CLOSED_MESSAGE


def test_unknown_caller_is_refused() -> None:
    decision = route(TUESDAY_10H, Caller(CallerStatus.UNKNOWN))
    assert decision.target is Target.REFUSAL_MESSAGE
    assert decision.window == "coordinators"
    assert decision.reason == "unknown-caller"
    assert (decision.context, decision.exten, decision.priority) == ("hotline-message", "s", 1)
    assert decision.variables == (
        ("HOTLINE_ROUTE", "refusal-message"),
        ("HOTLINE_MESSAGE", "callrouter/refused"),
        ("HOTLINE_OPENS_AT", ""),
    )
    assert decision.queue is None and decision.queue_priority is None
    assert decision.message_fr == (
        "Nous ne parvenons pas à identifier votre compte de services. Vérifiez votre numéro de "
        "compte et votre code d'accès téléphonique, puis rappelez-nous."
    )


def test_unknown_priority_caller_at_night_is_refused_not_sent_to_on_call() -> None:
    decision = route(SATURDAY_10H, Caller(CallerStatus.UNKNOWN), Pass.PRIORITY)
    assert decision.target is Target.REFUSAL_MESSAGE
    assert decision.window == "on-call"


def test_unknown_caller_out_of_hours_without_priority_hears_the_hours() -> None:
    decision = route(TUESDAY_20H, Caller(CallerStatus.UNKNOWN), Pass.FOUR_HOURS)
    assert decision.target is Target.CLOSED_MESSAGE


@pytest.mark.parametrize("attempt", [1, 2])
def test_wrong_pin_is_asked_again(attempt: int) -> None:
    decision = route(TUESDAY_10H, Caller(CallerStatus.WRONG_PIN), attempt=attempt)
    assert decision.target is Target.PIN_RETRY
    assert (decision.context, decision.exten, decision.priority) == ("hotline-pin-retry", "s", 1)
    assert decision.variables == (("HOTLINE_ROUTE", "pin-retry"),)
    assert decision.reason == f"wrong-pin, attempt {attempt} of 3"
    assert decision.window == "coordinators"
    assert decision.queue is None and decision.queue_priority is None
    assert decision.message_fr is None


@pytest.mark.parametrize("attempt", [3, 4])
def test_wrong_pin_on_the_last_attempt_is_refused(attempt: int) -> None:
    decision = route(TUESDAY_10H, Caller(CallerStatus.WRONG_PIN), attempt=attempt)
    assert decision.target is Target.REFUSAL_MESSAGE
    assert decision.window == "coordinators"
    assert decision.reason == "wrong-pin, attempts exhausted"


def test_max_pin_attempts_is_a_policy() -> None:
    policy = RoutingPolicy(max_pin_attempts=1)
    decision = route(TUESDAY_10H, Caller(CallerStatus.WRONG_PIN), attempt=1, policy=policy)
    assert decision.target is Target.REFUSAL_MESSAGE
    assert decision.reason == "wrong-pin, attempts exhausted"
    policy = RoutingPolicy(max_pin_attempts=2)
    decision = route(TUESDAY_10H, Caller(CallerStatus.WRONG_PIN), attempt=1, policy=policy)
    assert decision.reason == "wrong-pin, attempt 1 of 2"


def test_wrong_pin_of_a_priority_caller_at_night_is_asked_again() -> None:
    decision = route(SATURDAY_10H, Caller(CallerStatus.WRONG_PIN), Pass.PRIORITY, attempt=1)
    assert decision.target is Target.PIN_RETRY
    assert decision.window == "on-call"
    assert decision.reason == "wrong-pin, attempt 1 of 3"


@pytest.mark.parametrize("chosen_pass", list(Pass))
def test_insufficient_balance_in_hours_reaches_a_coordinator_at_normal_priority(
    chosen_pass: Pass,
) -> None:
    broke = Caller(CallerStatus.PIN_ACCEPTED, account_number="100042", can_pay=False)
    decision = route(TUESDAY_10H, broke, chosen_pass)
    assert decision.target is Target.COORDINATORS_QUEUE
    assert decision.window == "coordinators"
    assert (decision.context, decision.exten, decision.priority) == ("queue-coordinators", "s", 1)
    assert decision.queue == "coordinators"
    assert decision.queue_priority == 0
    assert decision.reason == "insufficient-balance"
    assert decision.message_fr is None
    assert decision.variables == (
        ("HOTLINE_ROUTE", "coordinators-queue"),
        ("HOTLINE_REASON", "insufficient-balance"),
        ("QUEUE_PRIO", "0"),
    )


def test_insufficient_balance_reaches_the_policy_s_coordinators_queue() -> None:
    broke = Caller(CallerStatus.PIN_ACCEPTED, account_number="100042", can_pay=False)
    policy = RoutingPolicy(coordinators_queue="support")
    empty = MappingProxyType({"support": QueueLoad(members=0, available=0, waiting=0)})
    decision = route(TUESDAY_10H, broke, policy=policy, queues=empty)
    assert (decision.queue, decision.context) == ("support", "queue-support")
    assert decision.reason == "insufficient-balance; queue support has no member"


def test_insufficient_balance_out_of_hours_is_a_message() -> None:
    broke = Caller(CallerStatus.RECOGNISED, account_number="100042", can_pay=False)
    decision = route(SATURDAY_10H, broke, Pass.PRIORITY)
    assert decision.target is Target.INSUFFICIENT_BALANCE_MESSAGE
    assert decision.window == "on-call"
    assert decision.reason == "insufficient-balance"
    assert (decision.context, decision.exten, decision.priority) == ("hotline-message", "s", 1)
    assert decision.queue is None and decision.queue_priority is None
    monday = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)
    assert decision.variables == (
        ("HOTLINE_ROUTE", "insufficient-balance-message"),
        ("HOTLINE_MESSAGE", "callrouter/insufficient-balance"),
        ("HOTLINE_OPENS_AT", str(int(monday.timestamp()))),
    )
    assert decision.message_fr == (
        "Le solde de votre compte de Points Services ne permet pas de régler ce Pass. "
        "Nos coordinateurs peuvent vous aider à le recharger du lundi au vendredi de 8h à 18h, "
        "hors jours fériés."
    )


def test_a_balance_that_pays_or_was_not_checked_changes_nothing() -> None:
    for can_pay in (True, None):
        caller = Caller(CallerStatus.PIN_ACCEPTED, account_number="100042", can_pay=can_pay)
        assert route(SATURDAY_10H, caller, Pass.PRIORITY).target is Target.ONCALL_QUEUE


def test_a_queue_without_members_is_kept_but_said() -> None:
    empty = MappingProxyType({"oncall": QueueLoad(members=0, available=0, waiting=0)})
    decision = route(SATURDAY_10H, chosen_pass=Pass.PRIORITY, queues=empty)
    assert decision.target is Target.ONCALL_QUEUE
    assert decision.reason == "emergency; queue oncall has no member"


def test_a_busy_queue_with_members_is_not_flagged() -> None:
    busy = MappingProxyType({"coordinators": QueueLoad(members=2, available=0, waiting=5)})
    assert route(TUESDAY_10H, queues=busy).reason == "pass-4h"


def test_queue_names_and_sounds_come_from_the_policy() -> None:
    policy = RoutingPolicy(coordinators_queue="support", closed_sound="custom/closed")
    assert route(TUESDAY_10H, policy=policy).context == "queue-support"
    night = route(TUESDAY_20H, policy=policy)
    assert ("HOTLINE_MESSAGE", "custom/closed") in night.variables


def test_priority_caller_outside_a_narrower_on_call_window_hears_the_hours() -> None:
    evenings = WeeklyWindow(
        CALENDAR.coordinators.days,  # type: ignore[union-attr]
        (TimeRange.parse("18:00-22:00"),),
    )
    calendar = HotlineCalendar({**CALENDAR.windows, "on-call": evenings})
    assert route(TUESDAY_20H, chosen_pass=Pass.PRIORITY, calendar=calendar).target is (
        Target.ONCALL_QUEUE
    )
    late = datetime(2026, 3, 10, 23, 0, tzinfo=PARIS)
    decision = route(late, chosen_pass=Pass.PRIORITY, calendar=calendar)
    assert decision.target is Target.CLOSED_MESSAGE
    assert decision.window == "on-call"
    assert decision.reason == "closed-hours, on-call window closed"
    # No word about the Pass prioritaire: the caller chose it already.
    assert decision.message_fr == (
        "Notre service d'assistance est actuellement fermé. Nos coordinateurs vous répondent "
        "du lundi au vendredi de 8h à 18h, hors jours fériés. Prochaine ouverture : "
        "mercredi 11 mars à 8h."
    )


def test_policy_defaults_are_the_spec_s() -> None:
    # Built here, not at import: the defaults are what is under test.
    policy = RoutingPolicy()
    assert dict(policy.pass_digits) == {
        "1": Pass.FOUR_HOURS,
        "2": Pass.APPOINTMENT,
        "3": Pass.PRIORITY,
    }
    assert dict(policy.priorities) == {Pass.FOUR_HOURS: 0, Pass.APPOINTMENT: 0, Pass.PRIORITY: 10}
    assert policy.normal_priority == 0
    assert policy.default_pass is Pass.FOUR_HOURS
    assert policy.max_pin_attempts == 3


def test_the_policy_keeps_its_own_read_only_copy_of_the_mappings() -> None:
    digits = {"1": Pass.FOUR_HOURS, "9": Pass.PRIORITY}
    priorities = {Pass.FOUR_HOURS: 0, Pass.APPOINTMENT: 0, Pass.PRIORITY: 10}
    policy = RoutingPolicy(pass_digits=digits, priorities=priorities)
    digits["9"] = Pass.APPOINTMENT
    priorities[Pass.PRIORITY] = 0
    assert pass_from_digit("9", policy.pass_digits) is Pass.PRIORITY
    assert route(TUESDAY_10H, chosen_pass=Pass.PRIORITY, policy=policy).queue_priority == 10
    with pytest.raises(TypeError):
        policy.priorities[Pass.PRIORITY] = 5  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.pass_digits["4"] = Pass.PRIORITY  # type: ignore[index]


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match=r"^no queue priority for pass 4h, rdv$"):
        RoutingPolicy(priorities={Pass.PRIORITY: 10})
    with pytest.raises(ValueError, match=r"^max_pin_attempts must be at least 1$"):
        RoutingPolicy(max_pin_attempts=0)
