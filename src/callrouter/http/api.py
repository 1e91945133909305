"""What every HTTP app of callrouter has: JSON errors, the calendar's time zone for the
times it writes, and the OpenAPI document of the routes it serves."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from callrouter.http.endpoint import CALENDAR_ZONE, add_endpoints
from callrouter.http.errors import error_middleware
from callrouter.http.openapi import META_ROUTES


def setup_http_api(app: web.Application, *, timezone: ZoneInfo) -> None:
    app[CALENDAR_ZONE] = timezone
    if error_middleware not in app.middlewares:
        app.middlewares.append(error_middleware)
    add_endpoints(app, META_ROUTES)
