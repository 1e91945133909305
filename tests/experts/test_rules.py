"""Experts on duty: working hours, absences, whole slots, domains."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.experts.rules import (
    Absence,
    Domain,
    Expert,
    ExpertRuleError,
    experts_for,
    on_duty,
    on_duty_throughout,
    unknown_domains,
)

HOURS = HotlineCalendar.default().coordinators


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def expert(name: str = "chloe", domains: tuple[str, ...] = ("knx",), **kwargs: object) -> Expert:
    return Expert(
        name=name,
        interface=f"Local/{name}@experts",
        domains=frozenset(domains),
        hours=HOURS,
        **kwargs,  # type: ignore[arg-type]
    )


def test_on_duty_inside_working_hours_only() -> None:
    chloe = expert()
    assert on_duty(chloe, paris(2026, 12, 1, 8, 0))
    assert on_duty(chloe, paris(2026, 12, 1, 17, 59))
    assert not on_duty(chloe, paris(2026, 12, 1, 18, 0))
    assert not on_duty(chloe, paris(2026, 12, 5, 10, 0))  # Saturday
    assert not on_duty(chloe, paris(2026, 12, 25, 10, 0))  # Christmas


def test_an_absence_is_half_open() -> None:
    away = Absence(paris(2026, 12, 1, 10, 0), paris(2026, 12, 1, 12, 0))
    chloe = expert(absences=(away,))
    assert on_duty(chloe, paris(2026, 12, 1, 9, 59))
    assert not on_duty(chloe, paris(2026, 12, 1, 10, 0))
    assert not on_duty(chloe, paris(2026, 12, 1, 11, 59))
    assert on_duty(chloe, paris(2026, 12, 1, 12, 0))


def test_a_whole_slot_must_be_on_duty() -> None:
    chloe = expert()
    assert on_duty_throughout(chloe, paris(2026, 12, 1, 17, 30), paris(2026, 12, 1, 18, 0))
    assert not on_duty_throughout(chloe, paris(2026, 12, 1, 17, 45), paris(2026, 12, 1, 18, 15))
    assert not on_duty_throughout(chloe, paris(2026, 12, 1, 7, 45), paris(2026, 12, 1, 8, 15))


def test_an_absence_touching_a_slot_does_not_block_it() -> None:
    away = Absence(paris(2026, 12, 1, 10, 0), paris(2026, 12, 1, 10, 30))
    chloe = expert(absences=(away,))
    assert on_duty_throughout(chloe, paris(2026, 12, 1, 10, 30), paris(2026, 12, 1, 11, 0))
    assert on_duty_throughout(chloe, paris(2026, 12, 1, 9, 30), paris(2026, 12, 1, 10, 0))
    assert not on_duty_throughout(chloe, paris(2026, 12, 1, 9, 45), paris(2026, 12, 1, 10, 15))
    assert not on_duty_throughout(chloe, paris(2026, 12, 1, 10, 15), paris(2026, 12, 1, 10, 45))


def test_an_empty_stretch_is_refused() -> None:
    with pytest.raises(ExpertRuleError):
        on_duty_throughout(expert(), paris(2026, 12, 1, 10, 0), paris(2026, 12, 1, 10, 0))


def test_experts_for_a_domain_on_duty_sorted_by_name() -> None:
    away = Absence(paris(2026, 12, 1, 9, 0), paris(2026, 12, 1, 11, 0))
    staff = [
        expert("david", ("knx", "hvac")),
        expert("chloe", ("knx",)),
        expert("emma", ("hvac",)),
        expert("anne", ("knx",), absences=(away,)),
    ]
    names = [e.name for e in experts_for(staff, "knx", paris(2026, 12, 1, 10, 0))]
    assert names == ["chloe", "david"]
    assert experts_for(staff, "knx", paris(2026, 12, 1, 19, 0)) == []


def test_bad_experts_and_domains_are_refused() -> None:
    with pytest.raises(ExpertRuleError, match="covers no domain"):
        expert(domains=())
    with pytest.raises(ExpertRuleError, match="dial string"):
        Expert("x", "expert7", frozenset({"knx"}), HOURS)
    with pytest.raises(ExpertRuleError, match="domain key"):
        Domain("KNX bus", "KNX")
    with pytest.raises(ExpertRuleError, match="label"):
        Domain("knx", "  ")
    with pytest.raises(ExpertRuleError, match="ends after"):
        Absence(paris(2026, 12, 1, 10, 0), paris(2026, 12, 1, 10, 0))
    with pytest.raises(ExpertRuleError, match="timezone-aware"):
        Absence(datetime(2026, 12, 1, 10), paris(2026, 12, 1, 11, 0))


def test_unknown_domains_are_named() -> None:
    known = [Domain("knx", "KNX"), Domain("hvac", "Chauffage, ventilation")]
    assert unknown_domains({"knx", "dali", "access"}, known) == ["access", "dali"]
    assert unknown_domains({"knx"}, known) == []


def test_duty_follows_the_wall_clock_across_dst() -> None:
    # Monday after the autumn change: 08:00 local is 07:00 UTC, no longer 06:00.
    chloe = expert()
    assert on_duty(chloe, paris(2026, 10, 26, 8, 0))
    assert not on_duty(chloe, paris(2026, 10, 26, 8, 0) - timedelta(minutes=1))
