"""The availability answer, pinned: a DST day, a holiday, an absence in the middle of a slot,
and against the plain slot-by-slot reading (the calendar's own search, quarter by quarter)
on random experts, absences and bookings around DST changes and holidays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callrouter.appointments.rules import (
    QUARTER,
    AppointmentPolicy,
    SlotAvailability,
    availability,
    quarters,
    slot_problem,
    slot_starts,
)
from callrouter.calendar import (
    MONDAY_TO_FRIDAY,
    PARIS,
    HotlineCalendar,
    TimeRange,
    WeeklyWindow,
)
from callrouter.experts.rules import Absence, Expert, on_duty_throughout

CALENDAR = HotlineCalendar.default()
WINDOW = CALENDAR.window("appointments")
POLICY = AppointmentPolicy()
SPLIT = WeeklyWindow(
    MONDAY_TO_FRIDAY, (TimeRange.parse("09:00-12:30"), TimeRange.parse("14:00-18:00"))
)
HOURS = (CALENDAR.coordinators, WINDOW, SPLIT, CALENDAR.on_call)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def _expert(name: str, *absences: Absence, hours: int = 0) -> Expert:
    return Expert(name, f"PJSIP/{name}", frozenset({"knx"}), HOURS[hours], absences)


def _by_local_time(slots: list[SlotAvailability]) -> dict[time, tuple[str, ...]]:
    return {slot.start.astimezone(PARIS).time(): slot.free for slot in slots}


def _stamps(instants: list[datetime]) -> list[int]:
    return [int(instant.timestamp()) for instant in instants]


def _day(
    experts: list[Expert], booked: dict[str, list[int]], day: datetime
) -> list[SlotAvailability]:
    now = day - timedelta(days=10)
    return availability(POLICY, WINDOW, experts, booked, day, day + timedelta(days=1), now)


def test_an_absence_inside_a_slot_takes_the_expert_off_every_slot_it_touches() -> None:
    away = Absence(paris(2025, 3, 11, 10, 5), paris(2025, 3, 11, 10, 20))
    slots = _by_local_time(_day([_expert("anne"), _expert("bruno", away)], {}, paris(2025, 3, 11)))
    assert slots[time(9, 30)] == ("anne", "bruno")  # ends at 10:00, before the absence
    for start in (time(9, 45), time(10, 0), time(10, 15)):
        assert slots[start] == ("anne",)
    assert slots[time(10, 30)] == ("anne", "bruno")  # starts after 10:20, on the quarter


def test_the_day_after_the_spring_dst_change_keeps_local_hours_and_bookings() -> None:
    # Paris moves to +02:00 on Sunday 30 March 2025: Monday 08:00 is 06:00 UTC.
    day = paris(2025, 3, 31)
    booked = {"anne": _stamps(quarters(paris(2025, 3, 31, 8, 0), paris(2025, 3, 31, 8, 30)))}
    slots = _day([_expert("anne"), _expert("bruno")], booked, day)
    assert slots[0].start == datetime(2025, 3, 31, 6, 0, tzinfo=UTC)
    assert slots[0].free == ("bruno",)
    assert slots[-1].start == datetime(2025, 3, 31, 14, 30, tzinfo=UTC)  # 16:30 local
    assert [slot.capacity for slot in slots[2:]] == [2] * 33
    assert _day([_expert("anne")], {}, paris(2025, 3, 30)) == []  # the Sunday of the change


def test_a_holiday_has_no_slot_and_the_days_around_it_keep_theirs() -> None:
    experts = [_expert("anne")]
    assert _day(experts, {}, paris(2025, 5, 8)) == []  # Victoire 1945, a Thursday
    for day in (paris(2025, 5, 7), paris(2025, 5, 9)):
        slots = _day(experts, {}, day)
        assert len(slots) == 35 and all(slot.free == ("anne",) for slot in slots)


def test_a_slot_lists_experts_by_name_with_their_own_hours_and_no_expert_means_no_one() -> None:
    day = paris(2025, 3, 11)
    experts = [_expert("zoe", hours=2), _expert("anne")]  # zoe: 09:00-12:30, 14:00-18:00
    slots = _by_local_time(_day(experts, {}, day))
    assert slots[time(8, 30)] == ("anne",)
    assert slots[time(9, 0)] == ("anne", "zoe")
    assert slots[time(12, 0)] == ("anne", "zoe") and slots[time(12, 15)] == ("anne",)
    assert all(slot.free == () and slot.capacity == 0 for slot in _day([], {}, day))


def _quarter(instant: datetime) -> datetime:
    """The quarter hour `instant` falls in (UTC)."""
    return instant.replace(minute=instant.minute // 15 * 15, second=0, microsecond=0)


def _reference(
    policy: AppointmentPolicy,
    experts: list[Expert],
    booked: dict[str, list[int]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[SlotAvailability]:
    """Every quarter hour in [start, end) the booking check accepts, and per slot the
    experts on duty throughout (the calendar's search) with no booked quarter in it."""
    slots: list[SlotAvailability] = []
    instant = _quarter(start)
    while instant < end:
        if instant >= start and slot_problem(policy, WINDOW, instant, now) is None:
            slot_end = instant + policy.slot_length
            free = tuple(
                expert.name
                for expert in sorted(experts, key=lambda e: e.name)
                if on_duty_throughout(expert, instant, slot_end)
                and not set(booked.get(expert.name, ())).intersection(
                    _stamps(quarters(instant, slot_end))
                )
            )
            slots.append(SlotAvailability(instant, slot_end, free))
        instant += QUARTER
    return slots


# Around the spring and autumn DST changes of 2025 and the holidays of May 2025.
_DAYS = st.sampled_from([paris(2025, 3, 27), paris(2025, 4, 30), paris(2025, 10, 23)])


@st.composite
def _cases(
    draw: st.DrawFn,
) -> tuple[AppointmentPolicy, list[Expert], dict[str, list[int]], datetime, datetime, datetime]:
    first = draw(_DAYS) + timedelta(minutes=draw(st.integers(0, 2 * 24 * 60 - 1)))
    end = first + timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
    notice = timedelta(days=7)
    policy = AppointmentPolicy(
        slot_length=QUARTER * draw(st.integers(1, 4)),
        minimum_notice=notice,
        horizon=notice + timedelta(days=draw(st.integers(1, 4))),
    )
    now = first - notice + timedelta(minutes=draw(st.integers(-24 * 60, 24 * 60)))
    minutes = st.integers(0, 6 * 24 * 60)
    experts: list[Expert] = []
    booked: dict[str, list[int]] = {}
    # Up to 20: three groups of eight in the bitwise reading.
    for index in range(draw(st.integers(0, 20))):
        name = f"e{index}"
        absences = [
            Absence(at, at + timedelta(minutes=draw(st.integers(1, 600))))
            for at in (
                first + timedelta(minutes=offset - 24 * 60)
                for offset in draw(st.lists(minutes, max_size=3))
            )
        ]
        experts.append(_expert(name, *absences, hours=draw(st.integers(0, len(HOURS) - 1))))
        # Booked quarters are whole quarter hours, as a booking reserves them.
        booked[name] = _stamps(
            [
                _quarter(first) + QUARTER * (offset // 15) - timedelta(hours=1)
                for offset in draw(st.lists(minutes, max_size=40))
            ]
        )
    return policy, experts, booked, first, end, now


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_availability_is_the_slot_by_slot_reading(
    case: tuple[
        AppointmentPolicy, list[Expert], dict[str, list[int]], datetime, datetime, datetime
    ],
) -> None:
    policy, experts, booked, start, end, now = case
    expected = _reference(policy, experts, booked, start, end, now)
    assert slot_starts(policy, WINDOW, start, end, now) == [slot.start for slot in expected]
    assert availability(policy, WINDOW, experts, booked, start, end, now) == expected
