"""Pass 4H callbacks: the ones still owed, each with a countdown to its deadline (on time,
at risk under `warn_before`, breached) written out in words as well as in colour; what was
met, breached and refunded today; and an alert on the alerts panel for each callback at
risk or breached.

The callbacks live in the database: the panel's poller reads them through a
`CallbacksSource`; the countdown's standing is worked out at each snapshot (the "tick"
topic), so a callback turns amber or red within a tick without a new reading.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from callrouter.console.activity_panels import Alert
from callrouter.console.panel import TICK, Labels, PanelView
from callrouter.console.refunds_panel import start_of_day
from callrouter.http.access import mask_caller_id

CALLBACKS = "callbacks"
POLL_SECONDS = 15.0
#: The callbacks' own default (callbacks.rules.CallbackPolicy.warn_before).
WARN_BEFORE = timedelta(minutes=30)


class Countdown(enum.StrEnum):
    ON_TIME = "on-time"
    AT_RISK = "at-risk"
    BREACHED = "breached"


def countdown(due: datetime, now: datetime, warn_before: timedelta) -> Countdown:
    """The same edges as the callbacks' rules: at risk from `due - warn_before` on,
    breached from `due` on (a callback not connected at 4h00 is breached)."""
    if now >= due:
        return Countdown.BREACHED
    if now >= due - warn_before:
        return Countdown.AT_RISK
    return Countdown.ON_TIME


@dataclass(frozen=True)
class OwedCallback:
    """A callback not connected yet and not closed: the customer is still to be called."""

    id: int
    domain: str
    number: str
    due_at: datetime
    dialling: bool


@dataclass(frozen=True)
class CallbacksReading:
    owed: tuple[OwedCallback, ...]
    met_today: int
    breached_today: int
    #: Points paid back today for breached callbacks.
    refunded_points_today: int


#: Reads the callbacks owed now and today's outcomes since the given local midnight.
CallbacksSource = Callable[[datetime], Awaitable[CallbacksReading]]


class CallbacksPanel:
    key = "callbacks"
    topic = CALLBACKS
    topics = frozenset({CALLBACKS, TICK})
    interval = POLL_SECONDS
    labels: ClassVar[Labels] = {
        "en": {
            "panel.callbacks": "4H callbacks",
            "callbacks.today": "Today: {met} met, {breached} breached, {points} points refunded",
            "callbacks.owed": "Callbacks owed",
            "callbacks.due": "Deadline",
            "callbacks.left": "Time left",
            "callbacks.standing": "Standing",
            "callbacks.domain": "Domain",
            "callbacks.number": "Number",
            "callbacks.none": "No callback owed.",
            "callbacks.overdue": "overdue by {time}",
            "callbacks.dialling": "(dialling)",
            "countdown.on-time": "on time",
            "countdown.at-risk": "AT RISK",
            "countdown.breached": "BREACHED",
            "alert.callback-at-risk": "4H callback at risk: its deadline is near.",
            "alert.callback-breached": "4H callback breached: the deadline passed (refunded); "
            "the customer is still to be called.",
        },
        "fr": {
            "panel.callbacks": "Rappels 4H",
            "callbacks.today": "Aujourd'hui : {met} tenus, {breached} dépassés, "
            "{points} points remboursés",
            "callbacks.owed": "Rappels à faire",
            "callbacks.due": "Échéance",
            "callbacks.left": "Temps restant",
            "callbacks.standing": "État",
            "callbacks.domain": "Domaine",
            "callbacks.number": "Numéro",
            "callbacks.none": "Aucun rappel en attente.",
            "callbacks.overdue": "dépassé de {time}",
            "callbacks.dialling": "(appel en cours)",
            "countdown.on-time": "dans les temps",
            "countdown.at-risk": "EN DANGER",
            "countdown.breached": "DÉPASSÉ",
            "alert.callback-at-risk": "Rappel 4H en danger : son échéance approche.",
            "alert.callback-breached": "Rappel 4H dépassé : l'échéance est passée "
            "(remboursé) ; le client reste à rappeler.",
        },
    }

    def __init__(
        self, source: CallbacksSource, timezone: ZoneInfo, warn_before: timedelta = WARN_BEFORE
    ) -> None:
        self._source = source
        self._timezone = timezone
        self.warn_before = warn_before
        self.reading: CallbacksReading | None = None

    async def refresh(self, now: datetime) -> bool:
        reading = await self._source(start_of_day(now, self._timezone))
        changed = reading != self.reading
        self.reading = reading
        return changed

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        reading = self.reading
        if reading is None:
            return {"configured": True, "read": False}
        full = view.seen.full_caller_ids
        return {
            "configured": True,
            "read": True,
            "warn_before_seconds": int(self.warn_before.total_seconds()),
            "met_today": reading.met_today,
            "breached_today": reading.breached_today,
            "refunded_points_today": reading.refunded_points_today,
            "owed": [
                {
                    "id": owed.id,
                    "domain": owed.domain,
                    "number": owed.number if full else mask_caller_id(owed.number),
                    "due": view.local(owed.due_at),
                    "standing": countdown(owed.due_at, view.now, self.warn_before).value,
                    "dialling": owed.dialling,
                }
                for owed in sorted(reading.owed, key=lambda owed: (owed.due_at, owed.id))
            ],
        }

    def alerts(self, now: datetime) -> list[Alert]:
        """The alerts panel's source: one alert per callback at risk or breached."""
        if self.reading is None:
            return []
        found = []
        for owed in self.reading.owed:
            standing = countdown(owed.due_at, now, self.warn_before)
            detail = f"#{owed.id} ({owed.domain})"
            if standing is Countdown.BREACHED:
                found.append(Alert("callback-breached", "critical", owed.due_at, detail))
            elif standing is Countdown.AT_RISK:
                since = owed.due_at - self.warn_before
                found.append(Alert("callback-at-risk", "warning", since, detail))
        return found
