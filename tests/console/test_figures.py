"""The sliding-window queue figures and the chart's buckets: pure rules on a given clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrouter.console.figures import QueueFigures, QueueStatistics, WindowSettings

T0 = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_no_traffic_gives_no_rate_rather_than_zero() -> None:
    statistics = QueueStatistics()
    assert statistics.figures("coordinators", T0) == QueueFigures(0, 0, None, None, None, None)


def test_figures_over_the_window() -> None:
    statistics = QueueStatistics()
    statistics.answered("coordinators", at(0), 5)
    statistics.answered("coordinators", at(1), 25)  # answered, but after 20 s
    statistics.abandoned("coordinators", at(2), 40)
    statistics.answered("coordinators", at(3), 10)
    statistics.answered("experts", at(3), 100)
    figures = statistics.figures("coordinators", at(4))
    assert figures.answered == 3
    assert figures.abandoned == 1
    assert figures.abandon_rate == pytest.approx(0.25)
    # Answered within 20 s out of every caller who stopped waiting (abandons count against).
    assert figures.service_level == pytest.approx(2 / 4)
    assert figures.average_wait == pytest.approx((5 + 25 + 40 + 10) / 4)
    assert figures.longest_wait == 40
    assert statistics.figures("experts", at(4)).answered == 1


def test_the_window_slides_and_does_not_reset_at_midnight() -> None:
    statistics = QueueStatistics(WindowSettings(window=timedelta(minutes=60)))
    statistics.answered("coordinators", at(0), 50)  # 23:30
    statistics.abandoned("coordinators", at(20), 30)  # 23:50
    statistics.answered("coordinators", at(40), 10)  # 00:10, the next day
    after_midnight = statistics.figures("coordinators", at(45))
    assert (after_midnight.answered, after_midnight.abandoned) == (2, 1)
    assert after_midnight.longest_wait == 50
    # 60 min after the first outcome it leaves the window: the longest wait follows.
    slid = statistics.figures("coordinators", at(61))
    assert (slid.answered, slid.abandoned) == (1, 1)
    assert slid.longest_wait == 30
    assert slid.average_wait == pytest.approx(20)
    assert statistics.figures("coordinators", at(101)) == QueueFigures(0, 0, None, None, None, None)


def test_service_level_threshold_is_configurable_and_inclusive() -> None:
    statistics = QueueStatistics(WindowSettings(service_level_within=timedelta(seconds=30)))
    statistics.answered("q", at(0), 30)
    statistics.answered("q", at(0), 31)
    assert statistics.figures("q", at(1)).service_level == pytest.approx(0.5)


def test_longest_wait_is_the_maximum_still_in_the_window() -> None:
    statistics = QueueStatistics(WindowSettings(window=timedelta(minutes=10)))
    for minute, wait in [(0, 90), (1, 10), (2, 60), (3, 20), (4, 30)]:
        statistics.answered("q", at(minute), wait)
    assert statistics.figures("q", at(5)).longest_wait == 90
    assert statistics.figures("q", at(10.5)).longest_wait == 60
    assert statistics.figures("q", at(12.5)).longest_wait == 30


def test_history_buckets_count_outcomes_and_peak_waiting() -> None:
    settings = WindowSettings(bucket=timedelta(minutes=15), history=timedelta(hours=1))
    statistics = QueueStatistics(settings)
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    statistics.waiting("q", start, 3)
    statistics.waiting("r", start + timedelta(minutes=1), 2)  # 5 waiting in all
    statistics.waiting("q", start + timedelta(minutes=2), 0)
    statistics.answered("q", start + timedelta(minutes=3), 5)
    statistics.abandoned("q", start + timedelta(minutes=16), 5)
    buckets = statistics.history(start + timedelta(minutes=40))
    assert [b.start for b in buckets] == [
        start - timedelta(minutes=15),
        start,
        start + timedelta(minutes=15),
        start + timedelta(minutes=30),
    ]
    assert [(b.answered, b.abandoned) for b in buckets] == [(0, 0), (1, 0), (0, 1), (0, 0)]
    assert buckets[1].peak_waiting == 5
    # The bucket with only an abandon starts from the 2 still waiting; the empty one
    # after it carries them on.
    assert [b.peak_waiting for b in buckets[2:]] == [2, 2]


def test_history_forgets_buckets_older_than_its_span() -> None:
    settings = WindowSettings(bucket=timedelta(minutes=15), history=timedelta(hours=1))
    statistics = QueueStatistics(settings)
    statistics.answered("q", at(0), 1)
    later = statistics.history(at(120))
    assert sum(b.answered for b in later) == 0
    assert len(later) == 4


def test_settings_refuse_a_history_that_is_not_whole_buckets() -> None:
    with pytest.raises(ValueError, match="whole number"):
        WindowSettings(bucket=timedelta(minutes=7), history=timedelta(hours=1))
