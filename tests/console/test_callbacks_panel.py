"""The 4H callbacks panel: the countdown's standing at its edges, masking, today's
figures, the alerts it raises, and its words in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callrouter.clock import FakeClock
from callrouter.console.activity_panels import AlertsPanel
from callrouter.console.labels import merged
from callrouter.console.panel import PanelView
from callrouter.console.panels_callbacks import (
    CALLBACKS,
    WARN_BEFORE,
    CallbacksPanel,
    CallbacksReading,
    Countdown,
    OwedCallback,
    countdown,
)
from callrouter.console.watch import Watch
from callrouter.http.access import Role, visibility

PARIS = ZoneInfo("Europe/Paris")
DUE = datetime(2026, 12, 1, 15, 0, tzinfo=PARIS)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE - WARN_BEFORE - SECOND, Countdown.ON_TIME),
        (DUE - WARN_BEFORE, Countdown.AT_RISK),  # 30 min left: amber (as the rules warn)
        (DUE - SECOND, Countdown.AT_RISK),
        (DUE, Countdown.BREACHED),  # not connected at 4h00: breached
        (DUE + timedelta(hours=2), Countdown.BREACHED),
    ],
)
def test_the_countdown_at_its_edges(now: datetime, expected: Countdown) -> None:
    assert countdown(DUE, now, WARN_BEFORE) is expected


class Source:
    def __init__(self, reading: CallbacksReading) -> None:
        self.reading = reading
        self.since: list[datetime] = []

    async def read(self, since: datetime) -> CallbacksReading:
        self.since.append(since)
        return self.reading


def owed(ident: int, due: datetime, *, dialling: bool = False) -> OwedCallback:
    return OwedCallback(ident, "knx", "0612345678", due, dialling)


READING = CallbacksReading(
    owed=(
        owed(2, DUE + timedelta(hours=1)),
        owed(1, DUE, dialling=True),
    ),
    met_today=3,
    breached_today=1,
    refunded_points_today=120,
)


def view(role: Role, now: datetime) -> PanelView:
    return PanelView(now=now, timezone=PARIS, seen=visibility(role))


async def test_owed_callbacks_count_down_by_deadline_with_a_fake_clock() -> None:
    clock = FakeClock(DUE - timedelta(minutes=45))
    source = Source(READING)
    panel = CallbacksPanel(source.read, PARIS)
    assert panel.snapshot(view(Role.SUPERVISOR, clock.now())) == {
        "configured": True,
        "read": False,
    }
    assert await panel.refresh(clock.now()) is True
    assert source.since == [datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)]
    assert await panel.refresh(clock.now()) is False

    def standings() -> list[tuple[int, str]]:
        shown = panel.snapshot(view(Role.SUPERVISOR, clock.now()))
        return [(line["id"], line["standing"]) for line in shown["owed"]]

    assert standings() == [(1, "on-time"), (2, "on-time")]
    clock.set(DUE - WARN_BEFORE)
    assert standings() == [(1, "at-risk"), (2, "on-time")]
    clock.set(DUE)
    assert standings() == [(1, "breached"), (2, "on-time")]
    clock.set(DUE + WARN_BEFORE)
    assert standings() == [(1, "breached"), (2, "at-risk")]
    shown = panel.snapshot(view(Role.SUPERVISOR, clock.now()))
    assert (shown["met_today"], shown["breached_today"], shown["refunded_points_today"]) == (
        3,
        1,
        120,
    )
    assert shown["owed"][0]["due"] == "2026-12-01T15:00:00+01:00"
    assert shown["owed"][0]["dialling"] is True
    assert shown["warn_before_seconds"] == 1800


async def test_numbers_are_masked_but_for_admins() -> None:
    panel = CallbacksPanel(Source(READING).read, PARIS)
    await panel.refresh(DUE)
    masked = panel.snapshot(view(Role.SUPERVISOR, DUE))["owed"][0]["number"]
    assert masked != "0612345678" and "345" not in masked
    assert panel.snapshot(view(Role.ADMIN, DUE))["owed"][0]["number"] == "0612345678"


async def test_callbacks_at_risk_or_breached_are_alerts_with_their_severity() -> None:
    panel = CallbacksPanel(Source(READING).read, PARIS)
    watch = Watch(FakeClock(DUE), lambda topic: None)
    watch.connected()  # the PBX link is up: only the callbacks' alerts remain
    alerts = AlertsPanel(watch)
    alerts.add_source(panel.alerts, CALLBACKS)
    assert CALLBACKS in alerts.topics
    before = view(Role.SUPERVISOR, DUE - WARN_BEFORE - SECOND)
    assert alerts.snapshot(before)["alerts"] == []  # nothing read yet
    await panel.refresh(DUE)
    assert alerts.snapshot(before)["alerts"] == []
    at_risk = alerts.snapshot(view(Role.SUPERVISOR, DUE - WARN_BEFORE))["alerts"]
    assert at_risk == [
        {
            "code": "callback-at-risk",
            "severity": "warning",
            "since": "2026-12-01T14:30:00+01:00",
            "detail": "#1 (knx)",
        }
    ]
    later = alerts.snapshot(view(Role.SUPERVISOR, DUE + WARN_BEFORE))["alerts"]
    assert [(a["code"], a["severity"], a["detail"]) for a in later] == [
        ("callback-breached", "critical", "#1 (knx)"),
        ("callback-at-risk", "warning", "#2 (knx)"),
    ]


def test_the_standings_and_alerts_have_words_in_french_and_english() -> None:
    for language in ("fr", "en"):
        texts = merged(language, [CallbacksPanel.labels])
        for standing in Countdown:
            assert texts[f"countdown.{standing.value}"]
        assert texts["alert.callback-at-risk"] and texts["alert.callback-breached"]
    assert merged("fr", [CallbacksPanel.labels])["panel.callbacks"] == "Rappels 4H"
    assert merged("fr", [CallbacksPanel.labels])["countdown.at-risk"] == "EN DANGER"
    assert merged("en", [CallbacksPanel.labels])["countdown.breached"] == "BREACHED"
