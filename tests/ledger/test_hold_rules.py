"""A hold's life without I/O: it moves once, a redial of the night attaches, and what a
hold found after a restart becomes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callrouter.calendar import HotlineCalendar
from callrouter.ledger.hold_rules import (
    AttachRule,
    CallerOnPBX,
    HoldMove,
    HoldState,
    MoveOutcome,
    Resolution,
    move_outcome,
    resolve,
)

PARIS = ZoneInfo("Europe/Paris")
ON_CALL = HotlineCalendar.default().on_call


@pytest.mark.parametrize(
    ("state", "move", "outcome"),
    [
        (HoldState.PENDING, HoldMove.POST, MoveOutcome.APPLY),
        (HoldState.PENDING, HoldMove.VOID, MoveOutcome.APPLY),
        (HoldState.POSTED, HoldMove.POST, MoveOutcome.REPLAY),
        (HoldState.VOIDED, HoldMove.VOID, MoveOutcome.REPLAY),
        (HoldState.POSTED, HoldMove.VOID, MoveOutcome.REFUSED),
        (HoldState.VOIDED, HoldMove.POST, MoveOutcome.REFUSED),
    ],
)
def test_a_hold_moves_once_and_final_states_never_change(
    state: HoldState, move: HoldMove, outcome: MoveOutcome
) -> None:
    assert move_outcome(state, move) is outcome


def test_a_weeknight_incident_is_attachable_until_8_the_next_morning() -> None:
    opened = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)  # Tuesday
    rule = AttachRule(ON_CALL)
    assert rule.until(opened) == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS)
    assert rule.attaches(opened, datetime(2026, 11, 25, 7, 59, tzinfo=PARIS))
    assert not rule.attaches(opened, datetime(2026, 11, 25, 8, 0, tzinfo=PARIS))


def test_a_friday_night_incident_is_attachable_all_weekend() -> None:
    opened = datetime(2026, 11, 27, 23, 0, tzinfo=PARIS)  # Friday
    assert AttachRule(ON_CALL).until(opened) == datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)


def test_a_configured_window_counts_from_the_opening() -> None:
    opened = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
    rule = AttachRule(ON_CALL, timedelta(hours=2))
    assert rule.attaches(opened, opened + timedelta(minutes=119))
    assert not rule.attaches(opened, opened + timedelta(hours=2))


def test_an_incident_opened_by_day_attaches_nothing_later() -> None:
    opened = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
    assert not AttachRule(ON_CALL).attaches(opened, opened + timedelta(hours=9))


PLACED = datetime(2026, 11, 24, 21, 0, tzinfo=PARIS)
MAX_AGE = timedelta(hours=4)


@pytest.mark.parametrize(
    ("caller", "age", "resolution"),
    [
        (CallerOnPBX(present=True, bridged=True), timedelta(minutes=5), Resolution.POST),
        (CallerOnPBX(present=True, bridged=False), timedelta(minutes=5), Resolution.KEEP),
        (CallerOnPBX(present=False, bridged=False), timedelta(minutes=5), Resolution.VOID),
        (CallerOnPBX(present=True, bridged=False), timedelta(hours=4), Resolution.VOID),
        # Bridged with a technician: they confirmed, whatever the age.
        (CallerOnPBX(present=True, bridged=True), timedelta(hours=5), Resolution.POST),
    ],
)
def test_a_hold_found_at_login_follows_the_caller(
    caller: CallerOnPBX, age: timedelta, resolution: Resolution
) -> None:
    assert resolve(placed_at=PLACED, now=PLACED + age, max_age=MAX_AGE, caller=caller) is (
        resolution
    )


def test_a_zero_window_attaches_nothing_even_at_the_same_instant() -> None:
    opened = datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)
    assert not AttachRule(ON_CALL, timedelta(0)).attaches(opened, opened)
    assert AttachRule(ON_CALL, timedelta(microseconds=1)).attaches(opened, opened)
