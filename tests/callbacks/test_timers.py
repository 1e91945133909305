"""The timers: which instants an open callback needs, and those planned from the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from callrouter.calendar import PARIS
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.timers import CallbackTimers, TimerKind, timers_of

from .conftest import Desk

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
CONFIG = CallbacksConfig()


@dataclass
class Row:
    due_at: datetime
    not_before: datetime
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    warn_at: datetime | None = None


def test_a_fresh_callback_needs_its_warning_and_its_deadline_within_the_horizon() -> None:
    row = Row(due_at=NOW + timedelta(minutes=40), not_before=NOW)
    assert timers_of(row, CONFIG, NOW, NOW + timedelta(hours=1)) == [
        (TimerKind.WARNING, NOW + timedelta(minutes=10)),
        (TimerKind.DEADLINE, NOW + timedelta(minutes=40)),
    ]
    assert timers_of(row, CONFIG, NOW, NOW + timedelta(minutes=15)) == [
        (TimerKind.WARNING, NOW + timedelta(minutes=10))
    ]


def test_a_retry_is_claimed_a_little_before_its_instant() -> None:
    retry = NOW + timedelta(minutes=10)
    row = Row(
        due_at=NOW + timedelta(hours=3),
        not_before=retry,
        warned_at=NOW,
    )
    assert timers_of(row, CONFIG, NOW, NOW + timedelta(minutes=15)) == [
        (TimerKind.ATTEMPT, retry - CONFIG.claim_ahead)
    ]


def test_an_appointments_call_is_warned_at_its_own_instant() -> None:
    slot = NOW + timedelta(minutes=2)
    row = Row(
        due_at=slot + timedelta(minutes=15),
        not_before=slot,
        warn_at=slot + timedelta(minutes=5),
    )
    assert timers_of(row, CONFIG, NOW, NOW + timedelta(minutes=30)) == [
        (TimerKind.ATTEMPT, slot - CONFIG.claim_ahead),
        (TimerKind.WARNING, slot + timedelta(minutes=5)),
        (TimerKind.DEADLINE, slot + timedelta(minutes=15)),
    ]


def test_a_breached_and_warned_callback_needs_no_more_timers() -> None:
    row = Row(due_at=NOW - timedelta(minutes=1), not_before=NOW, warned_at=NOW, breached_at=NOW)
    assert timers_of(row, CONFIG, NOW, NOW + timedelta(hours=1)) == []


async def test_timers_are_planned_from_the_tables_one_per_instant(desk: Desk) -> None:
    desk.busy = {"chloe", "david"}
    desk.clock.set(datetime(2026, 12, 1, 13, 0, 0, 400_000, tzinfo=PARIS))
    await desk.open()
    await desk.open()
    timers = CallbackTimers(desk.engine, desk.clock, desk.config, lambda: None)
    timers.start()
    try:
        # Due at 17:00:00.4 (4 business hours): outside the 15-minute horizon.
        assert await timers.load() == 0
        desk.clock.set(datetime(2026, 12, 1, 16, 50, tzinfo=PARIS))
        assert await timers.load() == 1
        [deadline] = timers.instants()
        # Rounded up to the next second; the warning (16:30) has passed already.
        assert abs(deadline - datetime(2026, 12, 1, 17, 0, 1, tzinfo=PARIS)) < timedelta(
            milliseconds=50
        )
    finally:
        timers.shutdown()
