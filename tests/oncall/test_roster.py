"""Who is on call when: the pure roster rules, in Paris time, with the SPEC's on-call
window (18:00-08:00 Monday to Friday, weekends and French public holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.oncall.roster import (
    Layer,
    OnCallTeam,
    Override,
    Roster,
    RosterError,
    Rotation,
    Technician,
    duties_of,
    hand_offs_between,
    next_hand_off,
    next_on_call,
    on_call_at,
    schedule,
)

WINDOW = HotlineCalendar.default().on_call
PEOPLE = {
    name: Technician(name, f"PJSIP/{name.lower()}")
    for name in ("Alice", "Bruno", "Chloé", "David", "Manon")
}


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rotation(people: str, every: int, at: str, first: str) -> Rotation:
    return Rotation(tuple(people.split()), every, time.fromisoformat(at), date.fromisoformat(first))


def roster(
    primary: Rotation | None = None,
    *,
    secondary: Rotation | None = None,
    manager: Rotation | None = None,
    overrides: tuple[Override, ...] = (),
) -> Roster:
    layers = {Layer.PRIMARY: primary, Layer.SECONDARY: secondary, Layer.MANAGER: manager}
    return Roster(
        WINDOW,
        PEOPLE,
        {layer: r for layer, r in layers.items() if r is not None},
        overrides,
    )


def primary_at(built: Roster, when: datetime) -> str | None:
    person = on_call_at(built, when).primary
    return None if person is None else person.name


# Weekly on Monday at 08:00, starting Monday 3 March 2025.
WEEKLY = rotation("Alice Bruno Chloé", 7, "08:00", "2025-03-03")


def test_weekly_hand_off_on_monday_morning() -> None:
    built = roster(WEEKLY)
    assert primary_at(built, paris("2025-03-03T18:00")) == "Alice"
    assert primary_at(built, paris("2025-03-09T23:00")) == "Alice"
    assert primary_at(built, paris("2025-03-10T07:59:59")) == "Alice"
    # 08:00 Monday: the coordinators take over; the hand-off shows at 18:00.
    assert on_call_at(built, paris("2025-03-10T08:00")) == OnCallTeam()
    assert primary_at(built, paris("2025-03-10T18:00")) == "Bruno"
    assert primary_at(built, paris("2025-03-17T18:00")) == "Chloé"
    assert primary_at(built, paris("2025-03-24T18:00")) == "Alice"
    # The cycle runs before its first hand-off too.
    assert primary_at(built, paris("2025-03-02T12:00")) == "Chloé"


def test_weekly_hand_off_inside_the_window() -> None:
    built = roster(rotation("Alice Bruno", 7, "10:00", "2025-03-01"))  # Saturdays 10:00
    assert primary_at(built, paris("2025-03-08T09:59:59")) == "Alice"
    assert primary_at(built, paris("2025-03-08T10:00")) == "Bruno"
    changes = hand_offs_between(built, paris("2025-03-07T12:00"), paris("2025-03-10T12:00"))
    assert changes == [
        paris("2025-03-07T18:00"),  # Friday: the window opens, Alice on call
        paris("2025-03-08T10:00"),  # Saturday: Bruno
        paris("2025-03-10T08:00"),  # Monday: the coordinators, nobody on call
    ]


def test_hand_offs_between_lists_only_real_changes() -> None:
    built = roster(WEEKLY)
    changes = hand_offs_between(built, paris("2025-03-09T20:00"), paris("2025-03-11T09:00"))
    assert changes == [
        paris("2025-03-10T08:00"),
        paris("2025-03-10T18:00"),
        paris("2025-03-11T08:00"),
    ]
    # A one-person rotation hands off to the same person: no change.
    alone = roster(rotation("Alice", 1, "18:00", "2025-03-01"))
    assert hand_offs_between(alone, paris("2025-03-08T12:00"), paris("2025-03-09T23:00")) == []
    # The end is included, the start is not.
    assert hand_offs_between(built, paris("2025-03-10T08:00"), paris("2025-03-10T18:00")) == [
        paris("2025-03-10T18:00")
    ]


def test_daily_rotation_at_six_pm() -> None:
    built = roster(rotation("Alice Bruno Chloé", 1, "18:00", "2025-03-03"))
    assert primary_at(built, paris("2025-03-03T18:00")) == "Alice"
    assert primary_at(built, paris("2025-03-04T07:00")) == "Alice"
    assert primary_at(built, paris("2025-03-04T18:00")) == "Bruno"
    assert primary_at(built, paris("2025-03-05T07:59")) == "Bruno"
    assert primary_at(built, paris("2025-03-05T18:00")) == "Chloé"
    assert primary_at(built, paris("2025-03-06T18:00")) == "Alice"
    # A Saturday: the 18:00 hand-off happens in the middle of the weekend's duty.
    assert primary_at(built, paris("2025-03-08T17:59")) == "Bruno"
    assert primary_at(built, paris("2025-03-08T18:00")) == "Chloé"


def test_spring_dst_night() -> None:
    # Sunday 30 March 2025: 02:00 CET becomes 03:00 CEST. The 18:00 hand-off stays at
    # 18:00 local, so Saturday's shift lasts 23 hours.
    built = roster(rotation("Alice Bruno", 1, "18:00", "2025-03-29"))
    assert primary_at(built, utc("2025-03-29T17:00")) == "Alice"  # 18:00 CET
    assert primary_at(built, utc("2025-03-30T01:30")) == "Alice"  # 03:30 CEST
    assert primary_at(built, utc("2025-03-30T15:59")) == "Alice"  # 17:59 CEST
    assert primary_at(built, utc("2025-03-30T16:00")) == "Bruno"  # 18:00 CEST
    changes = hand_offs_between(built, utc("2025-03-29T12:00"), utc("2025-03-31T12:00"))
    assert changes == [utc("2025-03-29T17:00"), utc("2025-03-30T16:00"), utc("2025-03-31T06:00")]
    assert changes[1] - changes[0] == timedelta(hours=23)
    # A hand-off at 02:30, a time that does not exist that night, happens at 03:30 CEST.
    skipped = roster(rotation("Alice Bruno", 1, "02:30", "2025-03-29"))
    assert primary_at(skipped, utc("2025-03-30T01:29")) == "Alice"
    assert primary_at(skipped, utc("2025-03-30T01:30")) == "Bruno"


def test_autumn_dst_night() -> None:
    # Sunday 26 October 2025: 03:00 CEST becomes 02:00 CET. Saturday's shift lasts 25 hours.
    built = roster(rotation("Alice Bruno", 1, "18:00", "2025-10-25"))
    assert primary_at(built, utc("2025-10-25T16:00")) == "Alice"  # 18:00 CEST
    assert primary_at(built, utc("2025-10-26T00:30")) == "Alice"  # 02:30 CEST
    assert primary_at(built, utc("2025-10-26T01:30")) == "Alice"  # 02:30 CET, again
    assert primary_at(built, utc("2025-10-26T16:59")) == "Alice"  # 17:59 CET
    assert primary_at(built, utc("2025-10-26T17:00")) == "Bruno"  # 18:00 CET
    changes = hand_offs_between(built, utc("2025-10-25T12:00"), utc("2025-10-26T20:00"))
    assert changes == [utc("2025-10-25T16:00"), utc("2025-10-26T17:00")]
    assert changes[1] - changes[0] == timedelta(hours=25)
    # A hand-off at 02:30, which happens twice that night, happens the first time.
    repeated = roster(rotation("Alice Bruno", 1, "02:30", "2025-10-25"))
    assert primary_at(repeated, utc("2025-10-26T00:29")) == "Alice"
    assert primary_at(repeated, utc("2025-10-26T00:30")) == "Bruno"
    assert primary_at(repeated, utc("2025-10-26T01:30")) == "Bruno"


def test_holiday_is_on_call_all_day() -> None:
    built = roster(WEEKLY)
    # Wednesday 24 December 2025 is a working day; Thursday 25 is Christmas.
    assert on_call_at(built, paris("2025-12-24T10:00")) == OnCallTeam()
    assert primary_at(built, paris("2025-12-25T10:00")) is not None
    changes = hand_offs_between(built, paris("2025-12-24T12:00"), paris("2025-12-26T12:00"))
    # On from Wednesday 18:00 straight through Christmas Day to Friday 08:00.
    assert changes == [paris("2025-12-24T18:00"), paris("2025-12-26T08:00")]
    [shift] = schedule(built, paris("2025-12-24T12:00"), paris("2025-12-26T12:00"))
    assert (shift.start, shift.end) == (paris("2025-12-24T18:00"), paris("2025-12-26T08:00"))


def test_override_spanning_a_hand_off() -> None:
    saturdays = rotation("Alice Bruno", 7, "10:00", "2025-03-01")
    # Chloé replaces Alice on Saturday 8 March from 08:00 to 12:00; Alice hands off to
    # Bruno at 10:00, so from then on the override has nobody to replace.
    override = Override("Alice", "Chloé", paris("2025-03-08T08:00"), paris("2025-03-08T12:00"))
    built = roster(saturdays, overrides=(override,))
    assert primary_at(built, paris("2025-03-08T07:59")) == "Alice"
    assert primary_at(built, paris("2025-03-08T08:00")) == "Chloé"
    assert primary_at(built, paris("2025-03-08T10:00")) == "Bruno"
    assert primary_at(built, paris("2025-03-08T12:00")) == "Bruno"
    changes = hand_offs_between(built, paris("2025-03-08T00:00"), paris("2025-03-08T23:00"))
    assert changes == [paris("2025-03-08T08:00"), paris("2025-03-08T10:00")]


def test_overrides_of_both_people_around_a_hand_off_and_stacked() -> None:
    saturdays = rotation("Alice Bruno", 7, "10:00", "2025-03-01")
    overrides = (
        Override("Alice", "Chloé", paris("2025-03-08T08:00"), paris("2025-03-08T12:00")),
        Override("Bruno", "Chloé", paris("2025-03-08T09:00"), paris("2025-03-08T11:00")),
        # Made later: David replaces the replacement.
        Override("Chloé", "David", paris("2025-03-08T08:30"), paris("2025-03-08T09:30")),
    )
    built = roster(saturdays, overrides=overrides)
    assert primary_at(built, paris("2025-03-08T08:00")) == "Chloé"
    assert primary_at(built, paris("2025-03-08T08:30")) == "David"
    assert primary_at(built, paris("2025-03-08T09:30")) == "Chloé"
    assert primary_at(built, paris("2025-03-08T10:30")) == "Chloé"  # now for Bruno
    assert primary_at(built, paris("2025-03-08T11:00")) == "Bruno"
    shifts = schedule(built, paris("2025-03-08T07:00"), paris("2025-03-08T12:00"))
    assert [(s.start, s.team.primary.name if s.team.primary else None) for s in shifts] == [
        (paris("2025-03-08T07:00"), "Alice"),
        (paris("2025-03-08T08:00"), "Chloé"),
        (paris("2025-03-08T08:30"), "David"),
        (paris("2025-03-08T09:30"), "Chloé"),
        (paris("2025-03-08T11:00"), "Bruno"),
    ]


def test_layers_and_the_manager() -> None:
    built = roster(
        rotation("Alice Bruno", 7, "08:00", "2025-03-03"),
        secondary=rotation("Chloé David", 1, "18:00", "2025-03-03"),
        manager=rotation("Manon", 7, "08:00", "2025-03-03"),
        overrides=(
            Override("Manon", "Alice", paris("2025-03-04T20:00"), paris("2025-03-04T22:00")),
        ),
    )
    team = on_call_at(built, paris("2025-03-04T19:00"))
    assert team == OnCallTeam(PEOPLE["Alice"], PEOPLE["David"], PEOPLE["Manon"])
    assert [layer for layer, _ in team.layers()] == [Layer.PRIMARY, Layer.SECONDARY, Layer.MANAGER]
    # Alice stands in for the manager: she holds two layers.
    covered = on_call_at(built, paris("2025-03-04T21:00"))
    assert covered.manager == PEOPLE["Alice"]
    assert covered.layers_of("Alice") == [Layer.PRIMARY, Layer.MANAGER]
    assert on_call_at(built, paris("2025-03-05T18:00")).secondary == PEOPLE["Chloé"]
    duties = duties_of(built, "Alice", paris("2025-03-04T18:00"), paris("2025-03-05T08:00"))
    assert [(d.start, d.end, d.layers) for d in duties] == [
        (paris("2025-03-04T18:00"), paris("2025-03-04T20:00"), (Layer.PRIMARY,)),
        (paris("2025-03-04T20:00"), paris("2025-03-04T22:00"), (Layer.PRIMARY, Layer.MANAGER)),
        (paris("2025-03-04T22:00"), paris("2025-03-05T08:00"), (Layer.PRIMARY,)),
    ]


def test_a_layer_without_rotation_is_nobody() -> None:
    team = on_call_at(roster(WEEKLY), paris("2025-03-04T19:00"))
    assert team.secondary is None and team.manager is None
    assert team.primary == PEOPLE["Alice"]


def test_no_roster_configured() -> None:
    empty = Roster(WINDOW)
    night = paris("2025-03-04T23:00")
    assert on_call_at(empty, night) == OnCallTeam()
    assert on_call_at(empty, night).empty
    assert schedule(empty, night, night + timedelta(days=14)) == []
    assert hand_offs_between(empty, night, night + timedelta(days=14)) == []
    assert next_hand_off(empty, night) is None


def test_next_hand_off() -> None:
    built = roster(WEEKLY)
    upcoming = next_hand_off(built, paris("2025-03-09T23:00"))
    assert upcoming is not None
    assert upcoming.at == paris("2025-03-10T08:00") and upcoming.team.empty
    upcoming = next_hand_off(built, upcoming.at)
    assert upcoming is not None
    assert upcoming.at == paris("2025-03-10T18:00")
    assert upcoming.team.primary == PEOPLE["Bruno"]


def test_schedule_is_cut_to_its_range_and_leaves_the_day_out() -> None:
    built = roster(WEEKLY)
    shifts = schedule(built, paris("2025-03-04T20:00"), paris("2025-03-06T07:00"))
    assert [(s.start, s.end) for s in shifts] == [
        (paris("2025-03-04T20:00"), paris("2025-03-05T08:00")),
        (paris("2025-03-05T18:00"), paris("2025-03-06T07:00")),
    ]


def test_impossible_rosters_are_refused() -> None:
    with pytest.raises(RosterError, match="at least one person"):
        Rotation((), 7, time(8), date(2025, 3, 3))
    with pytest.raises(RosterError, match="at least one day"):
        Rotation(("Alice",), 0, time(8), date(2025, 3, 3))
    with pytest.raises(RosterError, match="ends after it starts"):
        Override("Alice", "Bruno", paris("2025-03-04T20:00"), paris("2025-03-04T20:00"))
    with pytest.raises(RosterError, match="someone else"):
        Override("Alice", "Alice", paris("2025-03-04T20:00"), paris("2025-03-04T21:00"))
    with pytest.raises(RosterError, match="Zoé"):
        Roster(WINDOW, PEOPLE, {Layer.PRIMARY: rotation("Alice Zoé", 7, "08:00", "2025-03-03")})
    with pytest.raises(RosterError, match="without a zone"):
        Rotation(("Alice",), 7, time(8, tzinfo=UTC), date(2025, 3, 3))
    with pytest.raises(ValueError, match="no time zone"):
        on_call_at(roster(WEEKLY), datetime(2025, 3, 4, 20, 0))
    with pytest.raises(ValueError, match="no time zone"):
        schedule(roster(WEEKLY), paris("2025-03-04T20:00"), datetime(2025, 3, 5, 20, 0))
    built = roster(WEEKLY)
    with pytest.raises(TypeError):
        built.people["Zoé"] = PEOPLE["Alice"]  # type: ignore[index]
    with pytest.raises(TypeError):
        built.rotations[Layer.SECONDARY] = WEEKLY  # type: ignore[index]


def test_next_on_call_skips_the_day() -> None:
    built = roster(WEEKLY)
    # Alice's week: the next team on call is Bruno's, Monday evening, not the day's nobody.
    upcoming = next_on_call(built, paris("2025-03-09T23:00"))
    assert upcoming is not None
    assert upcoming.at == paris("2025-03-10T18:00")
    assert upcoming.team.primary == PEOPLE["Bruno"]
    # During the day: whoever comes on at 18:00, even if they were on last night.
    upcoming = next_on_call(built, paris("2025-03-11T10:00"))
    assert upcoming is not None
    assert (upcoming.at, upcoming.team.primary) == (paris("2025-03-11T18:00"), PEOPLE["Bruno"])
    assert next_on_call(Roster(WINDOW), paris("2025-03-11T10:00")) is None


def test_a_hand_off_just_after_midnight_is_read_on_the_local_date() -> None:
    # 00:30 in Paris is still the previous day in UTC: the shift is the local date's.
    built = roster(rotation("Alice Bruno", 1, "00:30", "2025-03-03"))
    assert primary_at(built, paris("2025-03-05T00:29")) == "Bruno"
    assert primary_at(built, paris("2025-03-05T00:30")) == "Alice"
    assert primary_at(built, paris("2025-03-05T00:45")) == "Alice"


def test_a_weekend_of_one_person_is_one_shift() -> None:
    # A one-person daily rotation hands off to the same person: the weekend is one shift.
    alone = roster(rotation("Alice", 1, "18:00", "2025-03-03"))
    shifts = schedule(alone, paris("2025-03-07T12:00"), paris("2025-03-10T12:00"))
    assert [(s.start, s.end) for s in shifts] == [
        (paris("2025-03-07T18:00"), paris("2025-03-10T08:00"))
    ]
    # Tonight and tomorrow night: the next team on call is the same person's.
    upcoming = next_on_call(alone, paris("2025-03-10T20:00"))
    assert upcoming is not None
    assert (upcoming.at, upcoming.team.primary) == (paris("2025-03-11T18:00"), PEOPLE["Alice"])


def test_duties_of_one_person() -> None:
    built = roster(WEEKLY, secondary=rotation("Chloé David", 1, "18:00", "2025-03-03"))
    # Bruno's week only (Alice's comes first); over the weekend the secondary changes at
    # 18:00 but Bruno's duty goes on in one piece.
    duties = duties_of(built, "Bruno", paris("2025-03-03T12:00"), paris("2025-03-18T12:00"))
    assert [(d.start, d.end, d.layers) for d in duties] == [
        (paris("2025-03-10T18:00"), paris("2025-03-11T08:00"), (Layer.PRIMARY,)),
        (paris("2025-03-11T18:00"), paris("2025-03-12T08:00"), (Layer.PRIMARY,)),
        (paris("2025-03-12T18:00"), paris("2025-03-13T08:00"), (Layer.PRIMARY,)),
        (paris("2025-03-13T18:00"), paris("2025-03-14T08:00"), (Layer.PRIMARY,)),
        (paris("2025-03-14T18:00"), paris("2025-03-17T08:00"), (Layer.PRIMARY,)),
    ]


def test_ranges_starting_just_after_a_hand_off_stay_inside() -> None:
    # Saturday 8 March, daily at 18:00 (17:00 UTC): from 18:30 the hand-off is behind us.
    daily = rotation("Alice Bruno", 1, "18:00", "2025-03-03")
    start, end = paris("2025-03-08T18:30"), paris("2025-03-09T19:00")
    assert daily.handoffs_between(start, end, PARIS) == [paris("2025-03-09T18:00")]
    [first, second] = schedule(roster(daily), start, end)
    assert (first.start, first.end) == (start, paris("2025-03-09T18:00"))
    assert (second.start, second.end) == (paris("2025-03-09T18:00"), end)
