"""Supervisor routes: health, live queues, live calls and the latest routing decisions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from callrouter.clock import Clock
from callrouter.http.errors import InvalidInput
from callrouter.live.state import LiveState


@dataclass(frozen=True)
class OpsContext:
    live: LiveState
    clock: Clock
    ami_connected: Callable[[], bool]
    recent_decisions: Callable[[int], Awaitable[Sequence[dict[str, Any]]]]


OPS = web.AppKey("ops", OpsContext)

_MAX_RECENT = 500


async def health(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    connected = ops.ami_connected()
    body = {"status": "ok" if connected else "degraded", "ami": "up" if connected else "down"}
    # 503 lets a load balancer or a supervisor's probe see that the PBX link is down.
    return web.json_response(body, status=200 if connected else 503)


async def queues(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    now = ops.clock.now()
    return web.json_response(
        {"at": now.isoformat(), "queues": [queue.to_dict(now) for queue in ops.live.queues()]}
    )


async def calls(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    limit_text = request.query.get("recent", "20")
    if not limit_text.isdigit() or not 0 <= int(limit_text) <= _MAX_RECENT:
        raise InvalidInput("recent", f"recent must be a whole number from 0 to {_MAX_RECENT}")
    now = ops.clock.now()
    recent = await ops.recent_decisions(int(limit_text))
    return web.json_response(
        {
            "at": now.isoformat(),
            "live": [call.to_dict(now) for call in ops.live.calls()],
            "recent_decisions": list(recent),
        }
    )


def setup_ops_routes(app: web.Application, context: OpsContext) -> None:
    app[OPS] = context
    app.router.add_get("/health", health, allow_head=False)
    app.router.add_get("/api/queues", queues, allow_head=False)
    app.router.add_get("/api/calls", calls, allow_head=False)
