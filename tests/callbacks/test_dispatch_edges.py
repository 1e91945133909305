"""Dispatch at its edges: duty is each expert's own, even among colleagues sharing hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.callbacks.dispatch import Assignment, WaitingCallback, assign
from callrouter.experts.rules import Absence, Expert

HOURS = HotlineCalendar.default().coordinators
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
AWAY = Absence(NOW - timedelta(hours=1), NOW + timedelta(hours=1))


def test_an_absent_expert_does_not_take_colleagues_with_the_same_hours_off_duty() -> None:
    # Anne is looked at first and is away; Chloe works the same hours and is here.
    anne = Expert("anne", "Local/anne@experts", frozenset({"knx"}), HOURS, (AWAY,))
    chloe = Expert("chloe", "Local/chloe@experts", frozenset({"knx"}), HOURS)
    callback = WaitingCallback(1, "knx", NOW + timedelta(hours=2), NOW)
    assert assign([callback], [anne, chloe], [anne, chloe], NOW) == [Assignment(1, "chloe")]
