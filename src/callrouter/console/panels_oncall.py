"""Who is on call now (primary, secondary, manager) and who comes next, with the hand-off
time in the calendar's offset. The roster is read by the panel's poller; who holds which
layer is worked out again at the first snapshot (the "tick" topic at the latest) from the
time the team or the on-call window changes, so a hand-off shows within a tick even when
nobody changed the roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from callrouter.calendar import is_open, next_closing, next_opening
from callrouter.console.panel import LIVE, TICK, Labels, PanelView
from callrouter.http.access import mask_caller_id, mask_numbers_in
from callrouter.oncall.roster import (
    Layer,
    OnCallTeam,
    Roster,
    next_hand_off,
    next_on_call,
    on_call_at,
)

ONCALL = "oncall"
POLL_SECONDS = 15.0
#: How long who is on call is taken as known when no change is in sight.
_RECHECK = timedelta(minutes=1)


class LiveEscalation(Protocol):
    """An emergency the PBX holds now, as the escalation tracker follows it (its
    `oncall.tracking.Escalation`): how far up the layers it went, in which pass."""

    @property
    def caller_id(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def pass_started_at(self) -> datetime: ...
    @property
    def pass_number(self) -> int: ...
    @property
    def layer(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def technician(self) -> str | None: ...


def team_names(team: OnCallTeam) -> dict[str, str | None]:
    """Layer -> the technician's name (never their contact: a phone number or interface)."""
    return {layer.value: _name(team, layer) for layer in Layer}


def _name(team: OnCallTeam, layer: Layer) -> str | None:
    person = team.get(layer)
    return None if person is None else person.name


class OnCallPanel:
    key = "oncall"
    topic = ONCALL
    #: The live view changes when an emergency joins or leaves the on-call queue.
    topics = frozenset({ONCALL, TICK, LIVE})
    interval = POLL_SECONDS
    labels: ClassVar[Labels] = {
        "en": {
            "panel.oncall": "On call",
            "oncall.now": "On call now",
            "oncall.now_until": "On call now, until {at}",
            "oncall.next": "Next, from {at}",
            "oncall.layer": "Layer",
            "oncall.who": "Technician",
            "oncall.primary": "Primary",
            "oncall.secondary": "Secondary",
            "oncall.manager": "Manager",
            "oncall.nobody": "Nobody on call now.",
            "oncall.closed": "Outside the on-call hours.",
            "oncall.no_next": "Nobody is planned next.",
            "oncall.escalations": "Live emergencies",
            "oncall.caller": "Caller",
            "oncall.waiting": "Waiting",
            "oncall.step": "Reached",
            "oncall.pass": "Pass",
            "oncall.state": "State",
            "oncall.technician": "Taken by",
            "oncall.no_escalation": "No emergency in progress.",
            "escalation.waiting": "waiting",
            "escalation.confirmed": "confirmed",
            "escalation.connected": "connected",
            "escalation.abandoned": "abandoned",
            "escalation.unanswered": "UNANSWERED",
        },
        "fr": {
            "panel.oncall": "D'astreinte",
            "oncall.now": "D'astreinte maintenant",
            "oncall.now_until": "D'astreinte maintenant, jusqu'à {at}",
            "oncall.next": "Ensuite, à partir de {at}",
            "oncall.layer": "Niveau",
            "oncall.who": "Technicien",
            "oncall.primary": "Premier appelé",
            "oncall.secondary": "Second",
            "oncall.manager": "Responsable",
            "oncall.nobody": "Personne d'astreinte en ce moment.",
            "oncall.closed": "Hors des heures d'astreinte.",
            "oncall.no_next": "Personne n'est prévu ensuite.",
            "oncall.escalations": "Urgences en cours",
            "oncall.caller": "Appelant",
            "oncall.waiting": "Attente",
            "oncall.step": "Niveau atteint",
            "oncall.pass": "Tour",
            "oncall.state": "État",
            "oncall.technician": "Pris par",
            "oncall.no_escalation": "Aucune urgence en cours.",
            "escalation.waiting": "en attente",
            "escalation.confirmed": "confirmée",
            "escalation.connected": "en communication",
            "escalation.abandoned": "abandonnée",
            "escalation.unanswered": "SANS RÉPONSE",
        },
    }

    def __init__(
        self,
        read_roster: Callable[[], Awaitable[Roster]],
        escalations: Callable[[], Sequence[LiveEscalation]] = lambda: (),
    ) -> None:
        self._read_roster = read_roster
        self._escalations = escalations
        self.roster: Roster | None = None
        self._kept: _Duty | None = None

    async def refresh(self, now: datetime) -> bool:
        roster = await self._read_roster()
        changed = roster != self.roster
        self.roster = roster
        return changed

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        roster = self.roster
        if roster is None:
            return {"configured": True, "read": False}
        return {
            "configured": True,
            "read": True,
            **self._duty(roster, view),
            "escalations": [_escalation(live, view) for live in self._escalations()],
        }

    def _duty(self, roster: Roster, view: PanelView) -> dict[str, Any]:
        """Who is on call now and next. Worked out again only when the roster was read
        anew or the team or the window may have changed: the live view recomputes this
        panel at every push (for the escalations), and the roster's arithmetic costs
        about a millisecond the router would wait for."""
        kept = self._kept
        if kept is not None and kept.roster is roster and kept.since <= view.now < kept.until:
            return kept.shown
        team = on_call_at(roster, view.now)
        upcoming = next_on_call(roster, view.now)
        change = next_hand_off(roster, view.now)
        window_open = is_open(roster.window, view.now)
        edge = (next_closing if window_open else next_opening)(roster.window, view.now)
        shown = {
            "window_open": window_open,
            "now": None if team.empty else team_names(team),
            # When the team on call now hands over (or the on-call hours end).
            "until": None if team.empty or change is None else view.local(change.at),
            "next": None
            if upcoming is None
            else {"at": view.local(upcoming.at), "team": team_names(upcoming.team)},
        }
        # Nothing above changes before the team or the window does; a change found beyond
        # the roster's horizon comes into view with time: looked for again now and then.
        until = min(edge, view.now + _RECHECK, *([] if change is None else [change.at]))
        self._kept = _Duty(roster, view.now, until, shown)
        return shown


@dataclass(frozen=True)
class _Duty:
    """The on-call part of the panel, as computed at `since` from `roster`: true until
    `until`."""

    roster: Roster
    since: datetime
    until: datetime
    shown: dict[str, Any]


def _escalation(live: LiveEscalation, view: PanelView) -> dict[str, Any]:
    full = view.seen.full_caller_ids
    technician = live.technician
    if technician is not None and not full:
        technician = mask_numbers_in(technician)
    return {
        "caller": live.caller_id if full else mask_caller_id(live.caller_id),
        "since": view.local(live.started_at),
        "pass_since": view.local(live.pass_started_at),
        "pass": live.pass_number,
        "layer": str(live.layer),
        "state": str(live.state),
        "technician": technician,
    }
