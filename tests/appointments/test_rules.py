"""The pure slot rules: alignment, the window's edge, notice, horizon, DST, holidays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from callrouter.appointments.rules import (
    AppointmentPolicy,
    AppointmentRuleError,
    SlotProblem,
    availability,
    full_refund_on_cancel,
    quarters,
    slot_problem,
    slot_starts,
)
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.experts.rules import Absence, Expert

CALENDAR = HotlineCalendar.default()
WINDOW = CALENDAR.window("appointments")
POLICY = AppointmentPolicy()


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def _local_times(starts: list[datetime]) -> list[time]:
    return [start.astimezone(PARIS).time() for start in starts]


def _day(day: datetime, now: datetime, policy: AppointmentPolicy = POLICY) -> list[datetime]:
    return slot_starts(policy, WINDOW, day, day + timedelta(days=1), now)


def test_slots_of_a_day_start_on_every_quarter_hour_and_end_by_17() -> None:
    now = paris(2025, 3, 3, 0, 0)
    starts = _day(paris(2025, 3, 10, 0, 0), now)
    assert len(starts) == 35  # 08:00, 08:15, ... 16:30
    assert _local_times(starts)[0] == time(8, 0) and _local_times(starts)[-1] == time(16, 30)
    assert slot_problem(POLICY, WINDOW, paris(2025, 3, 10, 16, 45), now) is (
        SlotProblem.OUTSIDE_WINDOW
    )
    assert slot_problem(POLICY, WINDOW, paris(2025, 3, 10, 16, 30), now) is None
    hour_long = AppointmentPolicy(slot_length=timedelta(hours=1))
    assert _local_times(_day(paris(2025, 3, 10, 0, 0), now, hour_long))[-1] == time(16, 0)


def test_minimum_notice_edge_and_horizon() -> None:
    now = paris(2025, 3, 3, 10, 0)
    assert slot_problem(POLICY, WINDOW, paris(2025, 3, 10, 10, 0), now) is None
    assert slot_problem(POLICY, WINDOW, paris(2025, 3, 10, 9, 45), now) is SlotProblem.TOO_SOON
    assert _local_times(_day(paris(2025, 3, 10, 0, 0), now))[0] == time(10, 0)
    last = paris(2025, 4, 28, 10, 0)  # 8 weeks after, to the minute
    assert slot_problem(POLICY, WINDOW, last, now) is None
    assert slot_problem(POLICY, WINDOW, last + timedelta(minutes=15), now) is SlotProblem.TOO_FAR
    assert _local_times(_day(paris(2025, 4, 28, 0, 0), now))[-1] == time(10, 0)
    assert slot_problem(POLICY, WINDOW, paris(2025, 3, 10, 10, 5), now) is SlotProblem.NOT_ALIGNED


def test_a_week_ahead_counts_wall_clock_days_across_the_spring_dst_change() -> None:
    # Paris moves from +01:00 to +02:00 on Sunday 30 March 2025: that week has 167 hours.
    now = paris(2025, 3, 24, 10, 0)
    monday = paris(2025, 3, 31, 10, 0)
    assert monday - now == timedelta(hours=167)
    assert slot_problem(POLICY, WINDOW, monday, now) is None
    assert slot_problem(POLICY, WINDOW, monday - timedelta(minutes=15), now) is (
        SlotProblem.TOO_SOON
    )
    early = paris(2025, 3, 20, 0, 0)
    assert _local_times(_day(paris(2025, 3, 31, 0, 0), early))[0] == time(8, 0)
    assert len(_day(paris(2025, 3, 31, 0, 0), early)) == 35
    assert _day(paris(2025, 3, 30, 0, 0), early) == []  # the Sunday of the change


def test_the_autumn_dst_change_keeps_local_slots() -> None:
    now = paris(2025, 10, 13, 0, 0)
    starts = _day(paris(2025, 10, 27, 0, 0), now)
    assert len(starts) == 35 and starts[0] == datetime(2025, 10, 27, 7, 0, tzinfo=UTC)
    # Before the change 08:00 in Paris is 06:00 UTC.
    assert _day(paris(2025, 10, 24, 0, 0), now)[0] == datetime(2025, 10, 24, 6, 0, tzinfo=UTC)


def test_no_slot_on_public_holidays() -> None:
    now = paris(2025, 4, 1, 0, 0)
    assert _day(paris(2025, 4, 21, 0, 0), now) == []  # Easter Monday
    assert slot_problem(POLICY, WINDOW, paris(2025, 5, 8, 10, 0), now) is (
        SlotProblem.OUTSIDE_WINDOW
    )
    assert len(_day(paris(2025, 4, 22, 0, 0), now)) == 35


def _expert(name: str, absences: tuple[Absence, ...] = ()) -> Expert:
    return Expert(name, f"PJSIP/{name}", frozenset({"knx"}), CALENDAR.coordinators, absences)


def test_capacity_counts_experts_on_duty_for_the_whole_slot_and_not_booked() -> None:
    now = paris(2025, 3, 3, 0, 0)
    day = paris(2025, 3, 10, 0, 0)
    away = Absence(paris(2025, 3, 10, 9, 0), paris(2025, 3, 10, 12, 0))
    experts = [_expert("anne"), _expert("bruno", (away,)), _expert("chloe")]
    taken = quarters(paris(2025, 3, 10, 8, 15), paris(2025, 3, 10, 8, 45))
    booked = {"chloe": [int(quarter.timestamp()) for quarter in taken]}
    slots = availability(POLICY, WINDOW, experts, booked, day, day + timedelta(days=1), now)
    by_time = {slot.start.astimezone(PARIS).time(): slot.free for slot in slots}
    assert by_time[time(8, 0)] == ("anne", "bruno")  # chloe's 08:15 is booked
    assert by_time[time(8, 30)] == ("anne", "bruno")  # chloe booked until 08:45
    assert by_time[time(8, 45)] == ("anne", "chloe")  # bruno is away from 09:00
    assert by_time[time(12, 0)] == ("anne", "bruno", "chloe")


def test_refund_notice_and_policy_checks() -> None:
    start = paris(2025, 3, 10, 10, 0)
    assert full_refund_on_cancel(POLICY, start, start - timedelta(hours=24))
    assert not full_refund_on_cancel(POLICY, start, start - timedelta(hours=24) + timedelta(1e-6))
    for bad in (
        {"slot_length": timedelta(minutes=20)},
        {"horizon": timedelta(days=7)},
        {"minimum_notice": timedelta(days=-1)},
    ):
        with pytest.raises(AppointmentRuleError):
            AppointmentPolicy(**bad)  # type: ignore[arg-type]
    assert quarters(start, start + timedelta(minutes=45)) == [
        start,
        start + timedelta(minutes=15),
        start + timedelta(minutes=30),
    ]
