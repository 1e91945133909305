"""What the panels show each role, the chart, the languages, and the outcome tracker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.ami.message import Message
from callrouter.clock import FakeClock
from callrouter.console.activity_panels import Alert, AlertsPanel, DecisionsPanel, LinkPanel
from callrouter.console.chart import history_svgs
from callrouter.console.figures import Bucket, QueueStatistics
from callrouter.console.labels import choose_language
from callrouter.console.panel import PanelView
from callrouter.console.queue_panels import (
    CALLERS_SHOWN,
    QueuesPanel,
    caller_label,
    member_status,
)
from callrouter.console.tracker import OutcomeTracker
from callrouter.console.watch import DecisionLine, Watch
from callrouter.http.access import Role, Visibility, mask_numbers_in, visibility
from callrouter.live.state import LiveState
from callrouter.live.views import CallerCard, QueueMember

from ..live.conftest import (
    agent_event,
    caller_join,
    caller_leave,
    configure,
    hotline_queued,
    newchannel,
    queue_entry,
    queue_member,
    queue_params,
)

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


class Passes(Watch):
    """The passes a test gives callers (the router records them with `routed`)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock, lambda _topic: None)
        self.passes: dict[str, str] = {}

    def pass_of(self, uniqueid: str) -> str | None:
        return self.passes.get(uniqueid)


class ReadCounting(LiveState):
    """Counts the reads of each queue's callers."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.reads: list[str] = []

    def waiting_cards(self, name: str, *, limit: int) -> tuple[CallerCard, ...]:
        self.reads.append(name)
        return super().waiting_cards(name, limit=limit)


def queues_panel_as_built_from_views(
    live: LiveState,
    watch: Watch,
    seen_view: PanelView,
    paused_since: dict[tuple[str, str], datetime],
    connected_at: dict[str, datetime],
) -> str:
    """The queues panel made afresh from the live state's views and encoded as the hub
    encodes a panel: what the supervisors must see, whatever the panel kept."""
    queues = []
    for queue in live.queues(limit=CALLERS_SHOWN):
        members = []
        for agent in queue.members:
            since = None
            if agent.paused:
                since = paused_since.setdefault((queue.name, agent.interface), seen_view.now)
            members.append(
                {
                    "name": agent.name,
                    "status": member_status(agent),
                    "paused_reason": agent.paused_reason,
                    "paused_since": None if since is None else seen_view.local(since),
                    "calls_taken": agent.calls_taken,
                }
            )
        queues.append(
            {
                "name": queue.name,
                "waiting": queue.waiting,
                "callers": [
                    {
                        "id": caller.uniqueid,
                        "position": caller.position,
                        "who": caller_label(caller.caller_id, caller.caller_name, seen_view.seen),
                        "pass": watch.pass_of(caller.uniqueid),
                        "priority": caller.priority,
                        "since": seen_view.local(caller.joined_at),
                    }
                    for caller in queue.callers
                ],
                "members": members,
            }
        )
    in_call = [
        {
            "id": call.uniqueid,
            "who": caller_label(call.caller_id, call.caller_name, seen_view.seen),
            "agent": call.agent if seen_view.seen.full_caller_ids else mask_numbers_in(call.agent),
            "pass": watch.pass_of(call.uniqueid),
            "since": seen_view.local(connected_at.get(call.uniqueid, call.started_at)),
        }
        for call in live.connected_calls(limit=50, scan=2000)
        if call.agent is not None
    ]
    return json.dumps(
        {"configured": True, "queues": queues, "in_call": in_call},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def pause(queue: str, agent: tuple[str, str], reason: str) -> Message:
    name, interface = agent
    return Message.event(
        "QueueMemberPause",
        [
            ("Queue", queue),
            ("MemberName", name),
            ("Interface", interface),
            ("CallsTaken", "0"),
            ("Status", "1"),
            ("Paused", "1"),
            ("PausedReason", reason),
        ],
    )


def test_every_change_to_a_queue_shows_at_the_next_push() -> None:
    """The panel keeps what it rendered: each step changes one thing a supervisor sees,
    and the panel must show it (a kept part that was not rendered again would be stale)."""
    clock = FakeClock(NOW)
    live = LiveState(clock)
    alice, chloe = ("Alice Martin", "Local/agent1@agents"), ("Chloé Bernard", "Local/agent3@agents")
    configure(live, {"coordinators": [alice], "experts": [chloe]})
    watch = Passes(clock)
    connected_at: dict[str, datetime] = {}
    panel = QueuesPanel(live, watch, connected_at.get)
    # When each pause was first seen (the first visibility rendered sees it first).
    paused_since: dict[tuple[str, str], datetime] = {}
    channels: dict[str, str] = {}

    def join(queue: str, uniqueid: str, name: str = "Name") -> None:
        number = f"06{uniqueid.replace('.', ''):0>8}"
        channels[uniqueid] = f"Local/{number}@hotline-{len(channels):08x};2"
        live.apply(newchannel(channels[uniqueid], uniqueid, (number, name)))
        live.apply(caller_join(queue, channels[uniqueid], uniqueid, (number, name), 999))

    def shows_the_live_state() -> None:
        clock.advance(timedelta(seconds=1))
        for seen in (SUPERVISOR, ADMIN):
            at = view(seen, clock.now())
            expected = queues_panel_as_built_from_views(live, watch, at, paused_since, connected_at)
            assert panel.render(at) == expected
            assert panel.snapshot(at) == json.loads(expected)

    shows_the_live_state()
    for uniqueid in ("1.1", "1.2", "1.3"):
        join("coordinators", uniqueid, "Zoé Dupont")
    join("experts", "2.1")
    shows_the_live_state()
    # A pass recorded after the caller was shown: nobody joined or left.
    watch.passes["1.2"] = "Pass Prioritaire"
    shows_the_live_state()
    # The first leaves: the others move up.
    live.apply(caller_leave("coordinators", channels["1.1"], "1.1"))
    shows_the_live_state()
    # An agent pauses, then takes the next caller: a call in progress.
    live.apply(pause("experts", chloe, "lunch"))
    shows_the_live_state()
    live.apply(agent_event("AgentConnect", "coordinators", channels["1.2"], "1.2", alice))
    shows_the_live_state()
    # The answer seen by the outcome tracker, then a pass recorded again for that call.
    connected_at["1.2"] = clock.now()
    shows_the_live_state()
    watch.passes["1.2"] = "Pass Confort"
    shows_the_live_state()
    # More callers than are shown: one joins behind them, one ahead of them all.
    for n in range(60):
        join("experts", f"3.{n}")
    shows_the_live_state()
    join("experts", "3.60")
    shows_the_live_state()
    channels["3.61"] = "Local/0600000361@hotline-000000ff;2"
    live.apply(newchannel(channels["3.61"], "3.61", ("0600000361", "")))
    live.apply(hotline_queued(channels["3.61"], "3.61", 10, "experts"))
    live.apply(caller_join("experts", channels["3.61"], "3.61", ("0600000361", ""), 1))
    shows_the_live_state()
    live.apply(caller_leave("experts", channels["3.0"], "3.0"))
    shows_the_live_state()
    # A rebuild: the same caller, as the PBX now tells it (waiting for 30 s).
    live.rebuild(
        [
            queue_params("coordinators", "r"),
            queue_member("coordinators", alice, "r"),
            queue_entry("coordinators", 1, channels["1.3"], "1.3", ("0611", ""), "r", wait=30),
            queue_params("experts", "r"),
        ],
        [],
    )
    shows_the_live_state()


def test_a_queue_whose_callers_did_not_move_is_not_read_again() -> None:
    clock = FakeClock(NOW)
    live = ReadCounting(clock)
    configure(live, {"coordinators": [], "experts": []})
    panel = QueuesPanel(live, Passes(clock), lambda _uniqueid: None)
    channels = {}
    for queue, uniqueid in (("coordinators", "1.1"), ("coordinators", "1.2"), ("experts", "2.1")):
        channels[uniqueid] = f"Local/06{uniqueid[-1]}@hotline-0000000{len(channels)};2"
        live.apply(newchannel(channels[uniqueid], uniqueid, ("0611111111", "")))
        live.apply(caller_join(queue, channels[uniqueid], uniqueid, ("0611111111", ""), 9))
    first = panel.render(view())
    assert live.reads == ["coordinators", "experts"]
    live.reads.clear()
    assert panel.render(view()) == first
    assert live.reads == [], "nobody joined or left"
    live.apply(caller_leave("experts", channels["2.1"], "2.1"))
    panel.render(view())
    assert live.reads == ["experts"]
    # Each visibility reads (and keeps) its own.
    panel.render(view(ADMIN))
    assert live.reads == ["experts", "coordinators", "experts"]


def test_a_waiting_caller_s_line_is_reused_at_its_new_position() -> None:
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
    panel = QueuesPanel(live, Passes(clock), lambda _uniqueid: None)

    def callers(seen: Visibility = SUPERVISOR) -> list[dict[str, object]]:
        [queue] = panel.snapshot(view(seen))["queues"]
        return queue["callers"]  # type: ignore[no-any-return]

    assert [line["who"] for line in callers()] == ["06 •• •• •1 11", "06 •• •• •2 22"]
    kept = panel._rendered[SUPERVISOR]["coordinators"].lines["1.2"]
    assert callers(ADMIN)[0]["who"] == "Name (0611111111)", "each visibility its own"
    live.apply(caller_leave("coordinators", channels["1.1"], "1.1"))
    [moved] = callers()
    assert moved["position"] == 1 and moved["who"] == "06 •• •• •2 22"
    assert panel._rendered[SUPERVISOR]["coordinators"].lines["1.2"] is kept, "not made again"


def test_a_caller_joining_behind_those_shown_changes_only_the_count() -> None:
    clock = FakeClock(NOW)
    live = LiveState(clock)
    configure(live, {"coordinators": []})
    panel = QueuesPanel(live, Passes(clock), lambda _uniqueid: None)
    for n in range(CALLERS_SHOWN + 1):
        channel = f"Local/06{n:08d}@hotline-{n:08x};2"
        live.apply(newchannel(channel, f"1.{n}", (f"06{n:08d}", "")))
        live.apply(caller_join("coordinators", channel, f"1.{n}", (f"06{n:08d}", ""), n + 1))
        if n == CALLERS_SHOWN - 1:
            panel.render(view())
            shown = panel._rendered[SUPERVISOR]["coordinators"].text
    [queue] = json.loads(panel.render(view()))["queues"]
    assert queue["waiting"] == CALLERS_SHOWN + 1 and len(queue["callers"]) == CALLERS_SHOWN
    assert panel._rendered[SUPERVISOR]["coordinators"].text is shown, "not rendered again"
