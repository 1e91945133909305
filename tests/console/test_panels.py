"""What the panels show each role, the chart, the languages, and the outcome tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.console.activity_panels import Alert, AlertsPanel, DecisionsPanel, LinkPanel
from callrouter.console.chart import history_svgs
from callrouter.console.figures import Bucket, QueueStatistics
from callrouter.console.labels import choose_language
from callrouter.console.panel import PanelView
from callrouter.console.queue_panels import QueuesPanel, caller_label, member_status
from callrouter.console.tracker import OutcomeTracker
from callrouter.console.watch import DecisionLine, Watch
from callrouter.http.access import Role, Visibility, visibility
from callrouter.live.state import LiveState
from callrouter.live.views import QueueMember

from ..live.conftest import caller_join, caller_leave, configure, newchannel

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SUPERVISOR, ADMIN = visibility(Role.SUPERVISOR), visibility(Role.ADMIN)


def view(seen: Visibility = SUPERVISOR, now: datetime = NOW) -> PanelView:
    return PanelView(now=now, timezone=PARIS, seen=seen)


def test_a_supervisor_sees_a_masked_number_and_no_name_an_admin_both() -> None:
    assert caller_label("0612345578", "Jean Dupont", SUPERVISOR) == "06 •• •• •5 78"
    assert caller_label("0612345578", "Jean Dupont", ADMIN) == "Jean Dupont (0612345578)"
    assert caller_label("", "", SUPERVISOR) == "?"


def member(**changes: object) -> QueueMember:
    fields: dict[str, object] = {
        "interface": "Local/agent1@agents",
        "name": "Alice Martin",
        "state": "idle",
        "paused": False,
        "paused_reason": "",
        "in_call": False,
        "calls_taken": 0,
    }
    fields.update(changes)
    return QueueMember(**fields)  # type: ignore[arg-type]


def test_agent_status_words() -> None:
    assert member_status(member()) == "free"
    assert member_status(member(state="ringing")) == "ringing"
    assert member_status(member(in_call=True, state="in-use")) == "in-call"
    assert member_status(member(paused=True, in_call=True)) == "paused"
    assert member_status(member(state="in-use")) == "busy"
    assert member_status(member(state="unavailable")) == "unavailable"


def test_decisions_hide_numbers_and_account_numbers_from_supervisors() -> None:
    watch = Watch(FakeClock(NOW), lambda topic: None)
    watch.decisions.appendleft(
        DecisionLine(
            decided_at=NOW,
            caller_id="0612345578",
            chosen_pass=None,
            window="coordinators",
            target="pin-retry",
            queue=None,
            reason="wrong-pin for account 12345678 from 0698765432",
            latency_ms=1.234,
        )
    )
    panel = DecisionsPanel(watch)
    [masked] = panel.snapshot(view(SUPERVISOR))["decisions"]
    assert masked["caller"] == "06 •• •• •5 78"
    assert "12345678" not in masked["reason"] and "0698765432" not in masked["reason"]
    assert masked["at"] == "2026-11-24T10:00:00+01:00"
    [whole] = panel.snapshot(view(ADMIN))["decisions"]
    assert whole["caller"] == "0612345578" and "12345678" in whole["reason"]


def test_link_down_and_recent_failsafes_are_alerts_and_others_can_add_theirs() -> None:
    clock = FakeClock(NOW)
    topics: list[str] = []
    watch = Watch(clock, topics.append)
    alerts = AlertsPanel(watch)
    watch.connected()
    assert alerts.snapshot(view())["alerts"] == []
    watch.disconnected()
    watch.failsafe("1700000000.1")
    codes = [a["code"] for a in alerts.snapshot(view())["alerts"]]
    assert codes == ["link-down", "failsafe"], "critical first"
    assert LinkPanel(watch).snapshot(view())["up"] is False
    assert topics == ["link", "link", "decisions"]
    # A fail-safe stops being an alert after 15 minutes.
    watch.connected()
    later = NOW + timedelta(minutes=16)
    assert alerts.snapshot(view(now=later))["alerts"] == []
    alerts.add_source(lambda now: [Alert("promise-at-risk", "warning", now, "callback #4")], "cb")
    assert "cb" in alerts.topics
    [promise] = alerts.snapshot(view(now=later))["alerts"]
    assert promise["code"] == "promise-at-risk" and promise["detail"] == "callback #4"


def test_the_chart_is_svg_with_a_title_and_hatched_abandons() -> None:
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    buckets = [
        Bucket(start, 3, 1, 2),
        Bucket(start + timedelta(minutes=15), 0, 0, 0),
    ]
    svgs = history_svgs(buckets, PARIS, {"fr": "Appels <décrochés>", "en": "Calls"})
    assert '<title id="history-title">Calls</title>' in svgs["en"]
    svg = svgs["fr"]
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert '<title id="history-title">Appels &lt;décrochés&gt;</title>' in svg
    assert 'fill="url(#hatch)"' in svg
    assert ">10:00<" in svg, "times are the calendar's"


def test_language_from_the_query_then_the_cookie_then_accept_language() -> None:
    assert choose_language("en", "fr", "fr") == "en"
    assert choose_language(None, "en", "fr") == "en"
    assert choose_language("xx", None, "de-DE, en-GB;q=0.8, fr;q=0.5") == "en"
    assert choose_language(None, None, "fr-CA,en;q=0.9") == "fr"
    assert choose_language(None, None, "de") == "fr", "French by default"
    assert choose_language(None, None, "en;q=0, fr;q=bad") == "fr"


def event(name: str, **headers: str) -> Message:
    return Message.event(name, list(headers.items()))


def test_the_tracker_measures_waits_and_remembers_when_calls_were_answered() -> None:
    clock = FakeClock(NOW)
    statistics = QueueStatistics()
    changes: list[int] = []
    tracker = OutcomeTracker(
        statistics, clock, lambda queue: queue == "coordinators", lambda: changes.append(1)
    )
    tracker.on_event(event("QueueCallerJoin", Queue="coordinators", Uniqueid="a"))
    clock.advance(timedelta(seconds=12))
    tracker.on_event(event("AgentConnect", Queue="coordinators", Uniqueid="a", HoldTime="99"))
    # Joined before callrouter was listening: Asterisk's HoldTime.
    tracker.on_event(event("QueueCallerAbandon", Queue="coordinators", Uniqueid="b", HoldTime="40"))
    # A queue that is not configured is not counted.
    tracker.on_event(event("QueueCallerAbandon", Queue="nowhere", Uniqueid="c", HoldTime="5"))
    figures = statistics.figures("coordinators", clock.now())
    assert (figures.answered, figures.abandoned) == (1, 1)
    assert figures.average_wait == 26 and figures.longest_wait == 40
    assert figures.service_level == 0.5
    assert len(changes) == 2
    assert statistics.figures("nowhere", clock.now()).abandoned == 0
    # The call in progress counts from the answer, until the caller hangs up.
    assert tracker.connected_at("a") == NOW + timedelta(seconds=12)
    assert tracker.connected_at("b") is None
    tracker.on_event(event("Hangup", Uniqueid="a"))
    assert tracker.connected_at("a") is None


def test_a_waiting_caller_s_line_is_reused_until_it_changes() -> None:
    clock = FakeClock(NOW)
    live = LiveState(clock)
    configure(live, {"coordinators": []})
    channels = {}
    for uniqueid, number, position in (("1.1", "0611111111", 1), ("1.2", "0622222222", 2)):
        channels[uniqueid] = f"Local/{number}@hotline-0000000{uniqueid[-1]};2"
        live.apply(newchannel(channels[uniqueid], uniqueid, (number, "Name")))
        live.apply(
            caller_join("coordinators", channels[uniqueid], uniqueid, (number, "Name"), position)
        )
    panel = QueuesPanel(live, Watch(clock, lambda _topic: None), lambda _uniqueid: None)

    def callers(seen: Visibility = SUPERVISOR) -> list[dict[str, object]]:
        [queue] = panel.snapshot(view(seen))["queues"]
        return queue["callers"]  # type: ignore[no-any-return]

    first = callers()
    assert [line["who"] for line in first] == ["06 •• •• •1 11", "06 •• •• •2 22"]
    again = callers()
    assert all(a is b for a, b in zip(first, again, strict=True)), "the same lines"
    assert callers(ADMIN)[0]["who"] == "Name (0611111111)", "each visibility its own"
    live.apply(caller_leave("coordinators", channels["1.1"], "1.1"))
    [moved] = callers()
    assert moved is not again[1] and moved["position"] == 1
    assert moved["who"] == "06 •• •• •2 22"
