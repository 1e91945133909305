"""Supervision routes: health (open, for probes), live queues, live calls and the latest
routing decisions (staff only, cut down to what each role may see)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from callrouter.clock import Clock
from callrouter.http import ops_schemas as shapes
from callrouter.http.access import Role, visibility
from callrouter.http.endpoint import Call, Endpoints, add_endpoints
from callrouter.http.errors import InvalidInput
from callrouter.live.state import LiveState


@dataclass(frozen=True)
class OpsContext:
    live: LiveState
    clock: Clock
    ami_connected: Callable[[], bool]
    recent_decisions: Callable[[int], Awaitable[Sequence[dict[str, Any]]]]


OPS = web.AppKey("ops", OpsContext)
OPS_ROUTES = Endpoints("supervision")


@OPS_ROUTES.route(
    "GET",
    "/health",
    "Whether the PBX link is up (503 while it is down)",
    roles=None,
    other_statuses={503: "The PBX link is down; callrouter is reconnecting by itself."},
)
async def health(call: Call) -> shapes.Health:
    connected = call.request.app[OPS].ami_connected()
    return shapes.Health(
        status="ok" if connected else "degraded", ami="up" if connected else "down"
    )


@OPS_ROUTES.route(
    "GET",
    "/api/queues",
    "Live queues: callers waiting (position, priority, waiting time) and members",
    roles=(Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN),
)
async def queues(call: Call, query: shapes.QueuesQuery) -> shapes.LiveQueues:
    """Every queue with its first `limit` callers; with `queue` (and `after`, the
    `next_after` of a previous page), one queue's callers page by page."""
    ops = call.request.app[OPS]
    now, seen = ops.clock.now(), visibility(call.who.role)
    if query.queue is None:
        if query.after is not None:
            raise InvalidInput("after", "after pages one queue's callers: give queue too")
        views = ops.live.queues(limit=query.limit)
    else:
        view = ops.live.queue(query.queue, after=query.after, limit=query.limit)
        if view is None:
            raise InvalidInput("queue", f"no queue is named {query.queue!r}")
        views = [view]
    return shapes.LiveQueues(at=now, queues=[shapes.queue(queue, now, seen) for queue in views])


@OPS_ROUTES.route(
    "GET",
    "/api/calls",
    "Live calls and the latest routing decisions",
    roles=(Role.SUPERVISOR, Role.ADMIN),
)
async def calls(call: Call, query: shapes.CallsQuery) -> shapes.LiveCalls:
    ops = call.request.app[OPS]
    now, seen = ops.clock.now(), visibility(call.who.role)
    page = ops.live.calls(after=query.after, limit=query.limit)
    recent = await ops.recent_decisions(query.recent)
    return shapes.LiveCalls(
        at=now,
        live=[shapes.live_call(live, now, seen) for live in page.calls],
        live_total=page.total,
        next_after=page.next_after,
        recent_decisions=[shapes.decision(record, seen) for record in recent],
    )


def setup_ops_routes(app: web.Application, context: OpsContext) -> None:
    app[OPS] = context
    add_endpoints(app, OPS_ROUTES)
