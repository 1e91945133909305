"""Earliest deadline first, next expert on no answer, one expert per callback at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.callbacks.dispatch import Assignment, WaitingCallback, assign
from callrouter.experts.rules import Absence, Expert

HOURS = HotlineCalendar.default().coordinators
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
HOUR = timedelta(hours=1)


def expert(name: str, *domains: str, absences: tuple[Absence, ...] = ()) -> Expert:
    return Expert(name, f"Local/{name}@experts", frozenset(domains), HOURS, absences)


def waiting(
    callback_id: int,
    domain: str = "knx",
    due_in: timedelta = timedelta(hours=2),
    not_before: datetime = NOW,
    passed_over: frozenset[str] = frozenset(),
) -> WaitingCallback:
    return WaitingCallback(callback_id, domain, NOW + due_in, not_before, passed_over)


def test_the_most_urgent_callback_gets_the_only_free_expert() -> None:
    chloe = expert("chloe", "knx")
    queue = [waiting(1, due_in=timedelta(hours=3)), waiting(2, due_in=timedelta(hours=1))]
    assert assign(queue, [chloe], [chloe], NOW) == [Assignment(2, "chloe")]


def test_equal_deadlines_go_by_id_and_each_expert_takes_one() -> None:
    chloe, david = expert("chloe", "knx"), expert("david", "knx")
    queue = [waiting(3), waiting(1), waiting(2)]
    assert assign(queue, [david, chloe], [chloe, david], NOW) == [
        Assignment(1, "david"),
        Assignment(2, "chloe"),
    ]


def test_only_experts_of_the_domain_on_duty_are_rung() -> None:
    away = Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    emma = expert("emma", "hvac")
    anne = expert("anne", "knx", absences=(away,))
    chloe = expert("chloe", "knx")
    everyone = [emma, anne, chloe]
    assert assign([waiting(1)], [emma, anne], everyone, NOW) == []
    assert assign([waiting(1)], [emma, anne, chloe], everyone, NOW) == [Assignment(1, "chloe")]
    night = NOW.replace(hour=19)
    assert assign([waiting(1, not_before=night)], [chloe], everyone, night) == []


def test_a_callback_waits_for_its_retry_delay() -> None:
    chloe = expert("chloe", "knx")
    later = waiting(1, due_in=timedelta(minutes=30), not_before=NOW + timedelta(minutes=10))
    relaxed = waiting(2, due_in=timedelta(hours=3))
    assert assign([later, relaxed], [chloe], [chloe], NOW) == [Assignment(2, "chloe")]
    assert assign([later], [chloe], [chloe], NOW + timedelta(minutes=10)) == [
        Assignment(1, "chloe")
    ]


def test_an_expert_who_did_not_answer_is_passed_over_for_that_callback() -> None:
    chloe, david = expert("chloe", "knx"), expert("david", "knx")
    skipped = waiting(1, passed_over=frozenset({"chloe"}))
    assert assign([skipped], [chloe, david], [chloe, david], NOW) == [Assignment(1, "david")]
    # Chloe is free but David, not yet tried, is on a call: wait for him.
    assert assign([skipped], [chloe], [chloe, david], NOW) == []
    # Another callback may still have Chloe.
    assert assign([skipped, waiting(2)], [chloe], [chloe, david], NOW) == [Assignment(2, "chloe")]


def test_when_everyone_on_duty_was_tried_a_new_round_starts() -> None:
    chloe, david = expert("chloe", "knx"), expert("david", "knx")
    everyone_tried = waiting(1, passed_over=frozenset({"chloe", "david"}))
    assert assign([everyone_tried], [david], [chloe, david], NOW) == [
        Assignment(1, "david", new_round=True)
    ]
    # An absent expert does not hold the round open.
    away = Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    absent_david = expert("david", "knx", absences=(away,))
    only_chloe_tried = waiting(1, passed_over=frozenset({"chloe"}))
    assert assign([only_chloe_tried], [chloe], [chloe, absent_david], NOW) == [
        Assignment(1, "chloe", new_round=True)
    ]


def test_an_appointment_gets_its_reserved_expert_before_an_earlier_deadline() -> None:
    chloe, david = expert("chloe", "knx"), expert("david", "knx")
    urgent = waiting(1, due_in=timedelta(minutes=5))
    appointment = replace(waiting(2, due_in=timedelta(minutes=15)), preferred="chloe")
    assert assign([urgent, appointment], [chloe, david], [chloe, david], NOW) == [
        Assignment(2, "chloe"),
        Assignment(1, "david"),
    ]


def test_a_reserved_expert_passed_over_or_off_duty_leaves_it_to_another() -> None:
    chloe, david = expert("chloe", "knx"), expert("david", "knx")
    passed = replace(waiting(1), preferred="chloe", passed_over=frozenset({"chloe"}))
    assert assign([passed], [chloe, david], [chloe, david], NOW) == [Assignment(1, "david")]
    away = expert("chloe", "knx", absences=(Absence(NOW - timedelta(hours=1), NOW + HOUR),))
    absent = replace(waiting(2), preferred="chloe")
    assert assign([absent], [away, david], [away, david], NOW) == [Assignment(2, "david")]
