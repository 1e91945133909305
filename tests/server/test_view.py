"""The demo's terminal view: what a newcomer reads on screen."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.live.state import QueueMember, QueueView, WaitingCaller
from callrouter.server.view import render_queues, summary_line

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 17, 59, 30, tzinfo=PARIS)


def caller(position: int, priority: int | None) -> WaitingCaller:
    return WaitingCaller(
        channel=f"Local/06000000{position:02d}@hotline-0000000{position:x};2",
        uniqueid=f"1795433938.{position}",
        caller_id=f"06000000{position:02d}",
        caller_name=f"Client {position}",
        queue="coordinators",
        position=position,
        priority=priority,
        joined_at=NOW - timedelta(seconds=10 * position),
    )


def queue(waiting: int, page: int | None = None) -> QueueView:
    members = (
        QueueMember("Local/agent1@agents", "Alice Martin", "in-use", False, "", True, 3),
        QueueMember("Local/agent2@agents", "Bruno Petit", "idle", True, "Pause déjeuner", False, 1),
    )
    shown = waiting if page is None else page
    callers = tuple(caller(n, 10 if n == 1 else 0) for n in range(1, shown + 1))
    return QueueView("coordinators", members, callers, completed=4, abandoned=1, waiting=waiting)


def test_the_screen_shows_time_link_queue_members_callers_and_decisions() -> None:
    screen = render_queues(
        [queue(2)], NOW, PARIS, recent=["17:59:20 0600000001 -> coordinators-queue"]
    )
    lines = screen.splitlines()
    assert lines[0].startswith("callrouter — Tuesday 24 November 2026 17:59:30 (Europe/Paris)")
    assert "PBX link: up" in lines[0]
    assert "[coordinators] waiting 2  members 2 (in call 1)  answered 4  abandoned 1" in screen
    assert "Alice Martin         in call" in screen
    assert "Bruno Petit          paused" in screen
    assert "#1   0600000001" in screen and "prio  10  waiting    10s" in screen
    assert screen.rstrip().endswith("17:59:20 0600000001 -> coordinators-queue")


def test_a_long_queue_is_cut_with_a_count_of_the_rest() -> None:
    screen = render_queues([queue(12)], NOW, PARIS)
    assert "#8 " in screen and "#9 " not in screen
    assert "... and 4 more waiting" in screen


def test_the_screen_needs_only_the_first_page_of_a_long_queue() -> None:
    screen = render_queues([queue(50_000, page=8)], NOW, PARIS)
    assert "[coordinators] waiting 50000 " in screen
    assert "#8 " in screen and "... and 49992 more waiting" in screen
    assert summary_line([queue(50_000, page=8)]).startswith("coordinators: 50000 waiting")


def test_a_down_link_is_said_plainly() -> None:
    assert "PBX link: DOWN, reconnecting" in render_queues([], NOW, PARIS, ami_up=False)


def test_the_summary_line_for_logs() -> None:
    assert summary_line([queue(3)]) == "coordinators: 3 waiting, 1/2 in call"
    assert summary_line([]) == "no queue known yet"
