"""The demo's terminal view: what a newcomer reads on screen."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.callbacks.queries import CallbackView
from callrouter.callbacks.rules import CallbackPolicy, GuaranteeClock, Standing
from callrouter.live.state import QueueMember, QueueView, WaitingCaller
from callrouter.server.view import render_callbacks, render_queues, summary_line

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


def callback(number: int, standing: Standing, **facts: object) -> CallbackView:
    due = NOW + timedelta(minutes=5)
    values: dict[str, object] = {
        "id": number,
        "incident_id": 100 + number,
        "domain": "hvac",
        "number": "0476000001",
        "standing": standing,
        "opened_at": due - timedelta(hours=4),
        "due_at": due,
        "seconds_left": 300,
        "customer_tries": 0,
        "attempt_count": 0,
        "warned_at": None,
        "connected_at": None,
        "breached_at": None,
        "closed_at": None,
        "close_reason": None,
    }
    values.update(facts)
    return CallbackView(**values)  # type: ignore[arg-type]


def test_the_callbacks_block_counts_down_and_says_met_or_breached_and_refunded() -> None:
    due = NOW + timedelta(minutes=5)
    lines = render_callbacks(
        [
            callback(1, Standing.AT_RISK),
            callback(2, Standing.DIALLING, attempt_count=2, domain="knx"),
            callback(3, Standing.MET, connected_at=due - timedelta(minutes=3, seconds=20)),
            callback(4, Standing.BREACHED, breached_at=due),
            callback(
                5, Standing.BREACHED, breached_at=due, connected_at=due + timedelta(minutes=2)
            ),
            callback(6, Standing.PENDING, customer_tries=1, due_at=NOW + timedelta(hours=18)),
            callback(7, Standing.AT_RISK, customer_tries=6, close_reason="gave-up"),
        ],
        NOW,
        PARIS,
        CallbackPolicy(),
    )
    assert lines[0] == "Pass 4H callbacks (an expert calls back within 4 business hours):"
    at_risk, dialling, met, breached, late, retry, gave_up = lines[1:]
    # Numbers masked, the deadline and the time left ticking while the callback is owed.
    assert at_risk.startswith("    #1    04 •• •• •0 01  hvac ")
    assert "due Tue 18:04  in 05m00s" in at_risk and at_risk.endswith("AT RISK")
    assert "knx" in dialling and dialling.endswith("in 05m00s     dialling (attempt 2)")
    assert met.endswith("met: connected 18:01:10, 03m20s to spare")
    assert breached.endswith("breached: refunded 18:04:30; still to be called back")
    assert late.endswith("breached: refunded 18:04:30; connected late 18:06:30")
    assert "due Wed 11:59  in 18h00m00s" in retry
    assert retry.endswith("pending, customer did not answer 1x: retry later")
    assert gave_up.endswith("AT RISK, customer did not answer 6x: a supervisor calls")
    # Met or breached: no countdown any more.
    assert " in " not in met and " in " not in breached


def test_the_callbacks_block_in_wall_clock_mode_and_when_empty() -> None:
    policy = CallbackPolicy(guarantee=timedelta(hours=1), clock=GuaranteeClock.WALL_CLOCK)
    assert render_callbacks([], NOW, PARIS, policy) == [
        "Pass 4H callbacks (an expert calls back within 1 hour, wall clock):",
        "    none open or closed lately",
    ]
