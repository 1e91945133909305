"""The activity panels: the latest routing decisions, the PBX link, and alerts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from callrouter.console.panel import DECISIONS, LINK, TICK, Labels, PanelView
from callrouter.console.watch import RECENT, Watch
from callrouter.http.access import mask_account_numbers, mask_caller_id, mask_numbers_in

#: How long a fail-safe stays an alert.
FAILSAFE_ALERT = timedelta(minutes=15)


class DecisionsPanel:
    key = "decisions"
    topics = frozenset({DECISIONS})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.decisions": "Latest routing decisions",
            "decisions.at": "Time",
            "decisions.caller": "Caller",
            "decisions.pass": "Pass",
            "decisions.target": "Sent to",
            "decisions.reason": "Why",
            "decisions.latency": "Decided in",
            "decisions.none": "No call routed since callrouter started.",
        },
        "fr": {
            "panel.decisions": "Dernières décisions de routage",
            "decisions.at": "Heure",
            "decisions.caller": "Appelant",
            "decisions.pass": "Pass",
            "decisions.target": "Envoyé vers",
            "decisions.reason": "Pourquoi",
            "decisions.latency": "Décidé en",
            "decisions.none": "Aucun appel routé depuis le démarrage.",
        },
    }

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        seen = view.seen
        lines = []
        for line in self.watch.decisions:
            lines.append(
                {
                    "at": view.local(line.decided_at),
                    "caller": line.caller_id
                    if seen.full_caller_ids
                    else _masked_caller_id(line.caller_id),
                    "pass": line.chosen_pass,
                    "target": line.target,
                    "queue": line.queue,
                    "reason": line.reason if seen.account_numbers else _masked(line.reason),
                    "latency_ms": round(line.latency_ms, 1),
                }
            )
        return {"configured": True, "decisions": lines}


# The same lines are shown at every push until newer decisions push them out: each is
# masked once, not at every push.
@lru_cache(maxsize=4 * RECENT)
def _masked(reason: str) -> str:
    return mask_numbers_in(mask_account_numbers(reason))


_masked_caller_id = lru_cache(maxsize=4 * RECENT)(mask_caller_id)


class LinkPanel:
    key = "link"
    topics = frozenset({LINK})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.link": "PBX link",
            "link.up": "up",
            "link.down": "DOWN",
            "link.since": "since",
            "link.drops": "drops since start",
        },
        "fr": {
            "panel.link": "Lien PBX",
            "link.up": "établi",
            "link.down": "COUPÉ",
            "link.since": "depuis",
            "link.drops": "coupures depuis le démarrage",
        },
    }

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        since = self.watch.link_since
        return {
            "configured": True,
            "up": self.watch.link_up,
            "since": None if since is None else view.local(since),
            "drops": self.watch.link_drops,
        }


@dataclass(frozen=True)
class Alert:
    """Something a supervisor must act on. `code` names its label (`alert.<code>`, which a
    source adds to the page's labels), `severity` is "warning" or "critical" (shown as a
    word, not only a colour), `detail` is shown as it is (already masked)."""

    code: str
    severity: str
    since: datetime
    detail: str = ""


#: A source of alerts: called at every recomputation with the current instant.
AlertSource = Callable[[datetime], list[Alert]]


class AlertsPanel:
    """Alerts from the link, fail-safes, and any source added with `add_source` (the
    promises at risk: callbacks, appointments)."""

    key = "alerts"
    topics = frozenset({LINK, DECISIONS, TICK})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.alerts": "Alerts",
            "alerts.none": "No alert.",
            "alerts.for": "for",
            "severity.warning": "Warning",
            "severity.critical": "Critical",
            "alert.link-down": "The PBX link is down: calls are not routed by callrouter "
            "(the dialplan's fail-safe queues them to the coordinators).",
            "alert.failsafe": "Fail-safe used: a caller was queued by the dialplan without "
            "a routing decision.",
        },
        "fr": {
            "panel.alerts": "Alertes",
            "alerts.none": "Aucune alerte.",
            "alerts.for": "depuis",
            "severity.warning": "Attention",
            "severity.critical": "Critique",
            "alert.link-down": "Le lien PBX est coupé : callrouter ne route plus les appels "
            "(le secours du plan de numérotation les met en file des coordinateurs).",
            "alert.failsafe": "Secours utilisé : un appelant a été mis en file par le plan "
            "de numérotation sans décision de routage.",
        },
    }

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self._sources: list[AlertSource] = [self._link_down, self._failsafes]

    def add_source(self, source: AlertSource, topic: str | None = None) -> None:
        """`source` is asked at every recomputation of this panel; announcing `topic`
        with `ConsoleHub.changed` recomputes it at once (else within a tick)."""
        self._sources.append(source)
        if topic is not None:
            self.topics = self.topics | {topic}

    def _link_down(self, now: datetime) -> list[Alert]:
        watch = self.watch
        if watch.link_up:
            return []
        return [Alert("link-down", "critical", watch.link_since or now)]

    def _failsafes(self, now: datetime) -> list[Alert]:
        return [
            Alert("failsafe", "warning", failsafe.at)
            for failsafe in self.watch.failsafes
            if now - failsafe.at <= FAILSAFE_ALERT
        ]

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        alerts = [alert for source in self._sources for alert in source(view.now)]
        alerts.sort(key=lambda alert: (alert.severity != "critical", alert.since))
        return {
            "configured": True,
            "alerts": [
                {
                    "code": alert.code,
                    "severity": alert.severity,
                    "since": view.local(alert.since),
                    "detail": alert.detail,
                }
                for alert in alerts
            ],
        }
