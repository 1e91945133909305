"""What the on-call routes share: the roster service, the clock, the feeds' settings."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from callrouter.clock import Clock
from callrouter.oncall.service import RosterService

FEED_PATH = "/api/oncall/feeds/{token}.ics"


@dataclass(frozen=True)
class OnCallApi:
    roster: RosterService
    clock: Clock
    #: Where technicians reach this server: the start of their feed's URL.
    feed_base_url: str
    feed_days_back: int
    feed_days_ahead: int


ONCALL = web.AppKey("oncall", OnCallApi)


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)
