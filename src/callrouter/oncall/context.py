"""What the on-call routes share: the roster service, the clock, the feeds' settings, and
the escalations of live emergencies (tracked from the PBX) and unanswered ones (stored)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from callrouter.clock import Clock
from callrouter.oncall.escalation_store import StoredEscalation
from callrouter.oncall.service import RosterService
from callrouter.oncall.tracking import Escalation

FEED_PATH = "/api/oncall/feeds/{token}.ics"


@dataclass(frozen=True)
class OnCallApi:
    roster: RosterService
    clock: Clock
    #: Where technicians reach this server: the start of their feed's URL.
    feed_base_url: str
    feed_days_back: int
    feed_days_ahead: int
    #: The emergencies the PBX holds now (none without a PBX link).
    escalations: Callable[[], Sequence[Escalation]] = field(default=lambda: ())
    #: The emergencies nobody confirmed since an instant, newest first (each owed a call).
    unanswered: Callable[[datetime], Awaitable[Sequence[StoredEscalation]]] | None = None


ONCALL = web.AppKey("oncall", OnCallApi)


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)
