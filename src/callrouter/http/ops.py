"""Supervisor routes: health, live queues, live calls and the latest routing decisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from callrouter.clock import Clock
from callrouter.http.errors import InvalidInput
from callrouter.live.state import DEFAULT_PAGE, LiveState


@dataclass(frozen=True)
class OpsContext:
    live: LiveState
    clock: Clock
    ami_connected: Callable[[], bool]
    recent_decisions: Callable[[int], Awaitable[Sequence[dict[str, Any]]]]


OPS = web.AppKey("ops", OpsContext)

_MAX_RECENT = 500
#: Most callers or calls one page lists: a view of 50,000 waiting callers is read page by page.
_MAX_PAGE = 1000


async def health(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    connected = ops.ami_connected()
    body = {"status": "ok" if connected else "degraded", "ami": "up" if connected else "down"}
    # 503 lets a load balancer or a supervisor's probe see that the PBX link is down.
    return web.json_response(body, status=200 if connected else 503)


def _page_limit(request: web.Request) -> int:
    text = request.query.get("limit", str(DEFAULT_PAGE))
    if not text.isdigit() or not 1 <= int(text) <= _MAX_PAGE:
        raise InvalidInput("limit", f"limit must be a whole number from 1 to {_MAX_PAGE}")
    return int(text)


async def queues(request: web.Request) -> web.Response:
    """Every queue with its first `limit` callers; with `queue` (and `after`, the
    `next_after` of a previous page), one queue's callers page by page."""
    ops = request.app[OPS]
    limit = _page_limit(request)
    name, after = request.query.get("queue"), request.query.get("after")
    now = ops.clock.now()
    if name is None:
        if after is not None:
            raise InvalidInput("after", "after pages one queue's callers: give queue too")
        views = ops.live.queues(limit=limit)
    else:
        try:
            view = ops.live.queue(name, after=after, limit=limit)
        except ValueError:
            raise InvalidInput("after", "after must be a next_after cursor") from None
        if view is None:
            raise InvalidInput("queue", f"no queue is named {name!r}")
        views = [view]
    return web.json_response(
        {"at": now.isoformat(), "queues": [queue.to_dict(now) for queue in views]}
    )


async def calls(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    limit_text = request.query.get("recent", "20")
    if not limit_text.isdigit() or not 0 <= int(limit_text) <= _MAX_RECENT:
        raise InvalidInput("recent", f"recent must be a whole number from 0 to {_MAX_RECENT}")
    limit = _page_limit(request)
    after = request.query.get("after")
    if after is not None and not after.isdigit():
        raise InvalidInput("after", "after must be a next_after cursor")
    live = ops.live.calls(after=after, limit=limit)
    now = ops.clock.now()
    recent = await ops.recent_decisions(int(limit_text))
    return web.json_response(
        {
            "at": now.isoformat(),
            "live": live.to_dict(now),
            "live_total": live.total,
            "next_after": live.next_after,
            "recent_decisions": list(recent),
        }
    )


def setup_ops_routes(app: web.Application, context: OpsContext) -> None:
    app[OPS] = context
    app.router.add_get("/health", health, allow_head=False)
    app.router.add_get("/api/queues", queues, allow_head=False)
    app.router.add_get("/api/calls", calls, allow_head=False)
