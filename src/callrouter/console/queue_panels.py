"""The queue panels: callers waiting and agents, figures over the window, the history chart."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from callrouter.console.chart import history_svgs
from callrouter.console.figures import QueueFigures, QueueStatistics
from callrouter.console.panel import DECISIONS, FIGURES, LIVE, TICK, Labels, PanelView
from callrouter.console.watch import Watch
from callrouter.http.access import Visibility, mask_caller_id, mask_numbers_in
from callrouter.live.state import LiveState
from callrouter.live.views import CallerCard, LiveCall, QueueHead, QueueMember

#: Callers listed per queue (the count says how many wait in all).
CALLERS_SHOWN = 50
#: Calls in progress listed.
IN_CALL_SHOWN = 50
#: Live channels looked through (oldest first) for the calls in progress: bounds the cost of
#: a push however many calls the PBX carries.
_CHANNELS_READ = 2000


# The same callers are shown at every push while they wait: their labels (masking is the
# dearest part of the panel) are kept for the callers most recently shown (a few queues
# of callers and the calls in progress, for each visibility).
@lru_cache(maxsize=4096)
def caller_label(caller_id: str, caller_name: str, seen: Visibility) -> str:
    """Who a caller is, as this visibility may see them: the name as stored and the number
    for those who see names, else the masked number only."""
    number = caller_id if seen.full_caller_ids else mask_caller_id(caller_id)
    if seen.caller_names and caller_name:
        return f"{caller_name} ({number})" if number else caller_name
    return number or "?"


#: JSON as the hub writes a panel: compact, not ASCII-only (a panel rendering its own text
#: must give the very bytes the hub would). One encoder: `json.dumps` makes one per call.
_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class _Line:
    """A waiting caller's JSON line around its position (which moves as others leave),
    and what it was made from."""

    card: CallerCard
    chosen: str | None
    head: str
    tail: str


@dataclass(frozen=True, slots=True)
class _Callers:
    """A queue's callers as rendered at a push: their JSON lines (joined) and what they
    were made from (the queue's `changes`, the callers shown, each line in position order)."""

    changes: int
    cards: tuple[CallerCard, ...]
    lines: dict[str, _Line]
    text: str


#: A queue's members and when each paused one was first seen paused.
_Agents = tuple[tuple[QueueMember, ...], tuple[datetime | None, ...]]
#: The calls in progress, each with its pass and when it was answered.
_Calls = tuple[tuple[LiveCall, str | None, datetime | None], ...]


def member_status(member: QueueMember) -> str:
    """One word for what an agent is doing (the page shows it as text, not only colour)."""
    if member.paused:
        return "paused"
    if member.in_call:
        return "in-call"
    if member.state in ("ringing", "ringing-in-use"):
        return "ringing"
    if member.state == "idle":
        return "free"
    if member.state in ("in-use", "busy", "on-hold"):
        return "busy"
    return "unavailable"


class QueuesPanel:
    """Callers waiting (position, who, pass, priority, since when), calls in progress and
    agents, per queue."""

    key = "queues"
    topics = frozenset({LIVE, DECISIONS})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.queues": "Queues",
            "queues.waiting": "waiting",
            "queues.position": "Position",
            "queues.caller": "Caller",
            "queues.pass": "Pass",
            "queues.priority": "Priority",
            "queues.waited": "Waiting for",
            "queues.agents": "Agents",
            "queues.agent": "Agent",
            "queues.status": "Status",
            "queues.calls_taken": "Calls taken",
            "queues.nobody": "Nobody is waiting.",
            "queues.in_call": "In call",
            "queues.talking": "In call for",
            "queues.none_in_call": "No call in progress.",
            "queues.no_queue": "No queue yet: the PBX link has not listed any.",
            "status.free": "free",
            "status.ringing": "ringing",
            "status.in-call": "in call",
            "status.busy": "busy",
            "status.paused": "paused",
            "status.unavailable": "unavailable",
            "queues.paused_for": "for",
        },
        "fr": {
            "panel.queues": "Files d'attente",
            "queues.waiting": "en attente",
            "queues.position": "Position",
            "queues.caller": "Appelant",
            "queues.pass": "Pass",
            "queues.priority": "Priorité",
            "queues.waited": "Attend depuis",
            "queues.agents": "Agents",
            "queues.agent": "Agent",
            "queues.status": "État",
            "queues.calls_taken": "Appels pris",
            "queues.nobody": "Personne n'attend.",
            "queues.in_call": "En communication",
            "queues.talking": "En ligne depuis",
            "queues.none_in_call": "Aucun appel en cours.",
            "queues.no_queue": "Pas encore de file : le lien PBX n'en a listé aucune.",
            "status.free": "libre",
            "status.ringing": "sonne",
            "status.in-call": "en communication",
            "status.busy": "occupé",
            "status.paused": "en pause",
            "status.unavailable": "indisponible",
            "queues.paused_for": "depuis",
        },
    }

    def __init__(
        self,
        live: LiveState,
        watch: Watch,
        connected_at: Callable[[str], datetime | None],
    ) -> None:
        self.live = live
        self.watch = watch
        self.connected_at = connected_at
        self._paused_since: dict[tuple[str, str], datetime] = {}
        # Per visibility, per queue: its callers' JSON as last rendered, and what it was
        # rendered from. A queue whose callers did not move (`QueueHead.changes`), or whose
        # callers shown are the same, with the same passes, is not rendered again.
        self._rendered: dict[Visibility, dict[str, _Callers]] = {}
        # Per queue: its members' JSON, and the members (and pauses' starts) it was made
        # from: the same for every visibility.
        self._members: dict[str, tuple[_Agents, str]] = {}
        # Per visibility: the calls in progress' JSON, and what it was made from.
        self._calls: dict[Visibility, tuple[_Calls, str]] = {}

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.render(view))
        return result

    def render(self, view: PanelView) -> str:
        """The panel's JSON, the text `json.dumps` would make of it (compact, not ASCII-only):
        made of the parts kept from the last push wherever they did not change."""
        paused: set[tuple[str, str]] = set()
        before = self._rendered.get(view.seen, {})
        rendered = self._rendered[view.seen] = {}
        shown = []
        for queue in self.live.queue_heads():
            sinces: list[datetime | None] = []
            for member in queue.members:
                since = None
                if member.paused:
                    key = (queue.name, member.interface)
                    paused.add(key)
                    since = self._paused_since.setdefault(key, view.now)
                sinces.append(since)
            members = self._members_of(queue, tuple(sinces), view)
            callers = rendered[queue.name] = self._callers(queue, view, before.get(queue.name))
            shown.append(
                f'{{"name":{_json(queue.name)},"waiting":{queue.waiting},'
                f'"callers":[{callers.text}],"members":{members}}}'
            )
        # A pause seen to end is forgotten: the next one starts its own clock.
        for key in set(self._paused_since) - paused:
            del self._paused_since[key]
        return f'{{"configured":true,"queues":[{",".join(shown)}],"in_call":{self._in_call(view)}}}'

    def _members_of(
        self, queue: QueueHead, sinces: tuple[datetime | None, ...], view: PanelView
    ) -> str:
        """A queue's members as JSON: as last time when they are the same (and paused since
        the same moments)."""
        made_of = (queue.members, sinces)
        kept = self._members.get(queue.name)
        if kept is not None and kept[0] == made_of:
            return kept[1]
        text = _json(
            [
                {
                    "name": member.name,
                    "status": member_status(member),
                    "paused_reason": member.paused_reason,
                    "paused_since": None if since is None else view.local(since),
                    "calls_taken": member.calls_taken,
                }
                for member, since in zip(queue.members, sinces, strict=True)
            ]
        )
        self._members[queue.name] = (made_of, text)
        return text

    def _callers(self, queue: QueueHead, view: PanelView, before: _Callers | None) -> _Callers:
        """A queue's callers as JSON: as last time when the callers shown are the same (read
        again only when someone joined or left) and so are their passes (a pass is recorded
        by the router, apart from the queue); else each line kept from last time with its
        new position, or made when it is new."""
        pass_of = self.watch.pass_of
        cards = None
        if before is not None:
            if before.changes != queue.changes:
                cards = self.live.waiting_cards(queue.name, limit=CALLERS_SHOWN)
            # Callers who joined behind those shown, or left from there, change nothing
            # here (a long queue: most joins); equal cards are the same lines.
            if (cards is None or cards == before.cards) and all(
                pass_of(line.card.uniqueid) == line.chosen for line in before.lines.values()
            ):
                if cards is None:
                    return before
                return _Callers(queue.changes, before.cards, before.lines, before.text)
        if cards is None:
            cards = self.live.waiting_cards(queue.name, limit=CALLERS_SHOWN)
        kept = {} if before is None else before.lines
        kept_line = kept.get
        lines: dict[str, _Line] = {}
        texts = []
        for position, card in enumerate(cards, start=1):
            uniqueid = card.uniqueid
            chosen = pass_of(uniqueid)
            line = kept_line(uniqueid)
            # The same caller has the same card (`Caller.card`): a rebuilt one gets a new line.
            if line is None or line.card is not card or line.chosen != chosen:
                line = _Line(
                    card,
                    chosen,
                    f'{{"id":{_json(uniqueid)},"position":',
                    f',"who":{_json(caller_label(card.caller_id, card.caller_name, view.seen))}'
                    f',"pass":{_json(chosen)},"priority":{_json(card.priority)}'
                    f',"since":{_json(view.local(card.joined_at))}}}',
                )
            lines[uniqueid] = line
            texts.append(f"{line.head}{position}{line.tail}")
        return _Callers(queue.changes, cards, lines, ",".join(texts))

    def _in_call(self, view: PanelView) -> str:
        """The calls in progress as JSON: as last time when they are the same calls, with
        the same passes and the same moments of answer."""
        calls = self.live.connected_calls(limit=IN_CALL_SHOWN, scan=_CHANNELS_READ)
        made_of = tuple(
            (call, self.watch.pass_of(call.uniqueid), self.connected_at(call.uniqueid))
            for call in calls
        )
        kept = self._calls.get(view.seen)
        if kept is not None and kept[0] == made_of:
            return kept[1]
        lines = []
        for call, chosen, connected in made_of:
            agent = call.agent or ""
            lines.append(
                {
                    "id": call.uniqueid,
                    "who": caller_label(call.caller_id, call.caller_name, view.seen),
                    "agent": agent if view.seen.full_caller_ids else mask_numbers_in(agent),
                    "pass": chosen,
                    # Since the agent answered; the call's start when that was not seen
                    # (callrouter connected to the PBX during the call).
                    "since": view.local(connected or call.started_at),
                }
            )
        text = _json(lines)
        self._calls[view.seen] = (made_of, text)
        return text


def _figures(figures: QueueFigures) -> dict[str, Any]:
    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "answered": figures.answered,
        "abandoned": figures.abandoned,
        "abandon_rate": rounded(figures.abandon_rate, 3),
        "service_level": rounded(figures.service_level, 3),
        "average_wait": rounded(figures.average_wait, 1),
        "longest_wait": rounded(figures.longest_wait, 1),
    }


class FiguresPanel:
    """Per queue over the sliding window: answered, abandoned, rates, waits."""

    key = "figures"
    topics = frozenset({FIGURES, TICK, LIVE})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.figures": "Figures",
            "figures.window": "over the last {minutes} min",
            "figures.queue": "Queue",
            "figures.answered": "Answered",
            "figures.abandoned": "Abandoned",
            "figures.abandon_rate": "Abandon rate",
            "figures.service_level": "Answered within {seconds} s",
            "figures.average_wait": "Average wait",
            "figures.longest_wait": "Longest wait",
            "figures.longest_now": "Waiting longest now",
        },
        "fr": {
            "panel.figures": "Chiffres",
            "figures.window": "sur les {minutes} dernières minutes",
            "figures.queue": "File",
            "figures.answered": "Décrochés",
            "figures.abandoned": "Abandonnés",
            "figures.abandon_rate": "Taux d'abandon",
            "figures.service_level": "Décrochés en {seconds} s",
            "figures.average_wait": "Attente moyenne",
            "figures.longest_wait": "Attente la plus longue",
            "figures.longest_now": "Attend le plus depuis",
        },
    }

    def __init__(self, live: LiveState, statistics: QueueStatistics) -> None:
        self.live = live
        self.statistics = statistics

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        settings = self.statistics.settings
        queues = []
        for name in self.live.queue_names():
            longest = self.live.queue(name, limit=0)
            queues.append(
                {
                    "name": name,
                    **_figures(self.statistics.figures(name, view.now)),
                    "longest_waiting_since": None
                    if longest is None or longest.longest_waiting_since is None
                    else view.local(longest.longest_waiting_since),
                }
            )
        return {
            "configured": True,
            "window_minutes": round(settings.window.total_seconds() / 60),
            "service_level_seconds": round(settings.service_level_within.total_seconds()),
            "queues": queues,
        }


class HistoryPanel:
    """Calls answered and abandoned per bucket, and the most callers waiting (SVG)."""

    key = "history"
    # Not FIGURES: under traffic a caller is answered or abandons before nearly every push,
    # and redrawing the chart (about 0.6 ms, the second longest step, and the largest text
    # of a delta) five times a second is not worth it for bars of 15 minutes: the tick
    # redraws it every 5 s. The figures panel follows every outcome.
    topics = frozenset({TICK})
    labels: ClassVar[Labels] = {
        "en": {
            "panel.history": "Last hours",
            "history.title": "Calls answered and abandoned, and most callers waiting",
            "history.start": "From",
            "history.answered": "Answered",
            "history.abandoned": "Abandoned",
            "history.waiting": "Most waiting",
            "history.legend": "Bars: answered (solid) and abandoned (hatched); line: most "
            "callers waiting",
        },
        "fr": {
            "panel.history": "Dernières heures",
            "history.title": "Appels décrochés et abandonnés, et maximum d'appelants en attente",
            "history.start": "Début",
            "history.answered": "Décrochés",
            "history.abandoned": "Abandonnés",
            "history.waiting": "Maximum en attente",
            "history.legend": "Barres : décrochés (pleines) et abandonnés (hachurées) ; "
            "ligne : maximum d'appelants en attente",
        },
    }

    def __init__(self, statistics: QueueStatistics) -> None:
        self.statistics = statistics

    def snapshot(self, view: PanelView) -> dict[str, Any]:
        buckets = self.statistics.history(view.now)
        return {
            "configured": True,
            "bucket_minutes": round(self.statistics.settings.bucket.total_seconds() / 60),
            "svg": history_svgs(
                buckets,
                view.timezone,
                {language: texts["history.title"] for language, texts in self.labels.items()},
            ),
            "buckets": [
                {
                    "start": view.local(bucket.start),
                    "answered": bucket.answered,
                    "abandoned": bucket.abandoned,
                    "peak_waiting": bucket.peak_waiting,
                }
                for bucket in buckets
            ],
        }
