"""Who is on call now (primary, secondary, manager) and who comes next, with the hand-off
time in the calendar's offset. The roster is read by the panel's poller; who holds which
layer is worked out at each snapshot (the "tick" topic), so a hand-off shows within a tick
even when nobody changed the roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar

from callrouter.calendar import is_open
from callrouter.console.panel import TICK, Labels, PanelView
from callrouter.oncall.roster import Layer, OnCallTeam, Roster, next_on_call, on_call_at

ONCALL = "oncall"
POLL_SECONDS = 15.0


def team_names(team: OnCallTeam) -> dict[str, str | None]:
    """Layer -> the technician's name (never their contact: a phone number or interface)."""
    return {layer.value: _name(team, layer) for layer in Layer}


def _name(team: OnCallTeam, layer: Layer) -> str | None:
    person = team.get(layer)
    return None if person is None else person.name


class OnCallPanel:
    key = "oncall"
    topic = ONCALL
    topics = frozenset({ONCALL, TICK})
    interval = POLL_SECONDS
    labels: ClassVar[Labels] = {
        "en": {
            "panel.oncall": "On call",
            "oncall.now": "On call now",
            "oncall.next": "Next, from {at}",
            "oncall.layer": "Layer",
            "oncall.who": "Technician",
            "oncall.primary": "Primary",
            "oncall.secondary": "Secondary",
            "oncall.manager": "Manager",
            "oncall.nobody": "Nobody on call now.",
            "oncall.closed": "Outside the on-call hours.",
            "oncall.no_next": "Nobody is planned next.",
        },
        "fr": {
            "panel.oncall": "D'astreinte",
            "oncall.now": "D'astreinte maintenant",
            "oncall.next": "Ensuite, à partir de {at}",
            "oncall.layer": "Niveau",
            "oncall.who": "Technicien",
            "oncall.primary": "Premier appelé",
            "oncall.secondary": "Second",
            "oncall.manager": "Responsable",
            "oncall.nobody": "Personne d'astreinte en ce moment.",
            "oncall.closed": "Hors des heures d'astreinte.",
            "oncall.no_next": "Personne n'est prévu ensuite.",
        },
    }

    def __init__(self, read_roster: Callable[[], Awaitable[Roster]]) -> None:
        self._read_roster = read_roster
        self.roster: Roster | None = None

    async def refresh(self, now: datetime) -> bool:
        roster = await self._read_roster()
        changed = roster != self.roster
        self.roster = roster
        return changed

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        roster = self.roster
        if roster is None:
            return {"configured": True, "read": False}
        team = on_call_at(roster, view.now)
        upcoming = next_on_call(roster, view.now)
        return {
            "configured": True,
            "read": True,
            "window_open": is_open(roster.window, view.now),
            "now": None if team.empty else team_names(team),
            "next": None
            if upcoming is None
            else {"at": view.local(upcoming.at), "team": team_names(upcoming.team)},
        }
