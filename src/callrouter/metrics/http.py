"""Serving `/metrics` and counting HTTP requests."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.config import MetricsConfig
from callrouter.http.errors import error_body
from callrouter.metrics.ledger import read_ledger_totals
from callrouter.metrics.registry import HotlineMetrics

log = structlog.get_logger(__name__)

METRICS = web.AppKey("metrics", HotlineMetrics)
#: Seconds between two readings of the ledger's totals.
LEDGER_INTERVAL = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_counter(metrics: HotlineMetrics) -> Middleware:
    """Middleware: requests by method, route template (not the raw path: its values are
    bounded) and status."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            metrics.http_requests.labels(request.method, route, str(status)).inc()

    return count


def _exposition(metrics: HotlineMetrics, token: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if token:
            presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(presented.encode(), token.encode()):
                return web.json_response(
                    error_body("unauthorized", "/metrics needs its bearer token"),
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        return web.Response(
            body=generate_latest(metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    return handler


def setup_metrics(
    app: web.Application,
    metrics: HotlineMetrics,
    settings: MetricsConfig,
    database: async_sessionmaker[AsyncSession],
) -> None:
    """Count requests on `app`; serve /metrics on it behind the token, or on a listener of
    its own; keep the ledger totals fresh."""
    app[METRICS] = metrics
    app.middlewares.insert(0, request_counter(metrics))
    if settings.token:
        app.router.add_get("/metrics", _exposition(metrics, settings.token))
    app.cleanup_ctx.append(_metrics_context(metrics, settings, database))


def _metrics_context(
    metrics: HotlineMetrics,
    settings: MetricsConfig,
    database: async_sessionmaker[AsyncSession],
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        runner: web.AppRunner | None = None
        if not settings.token:
            own = web.Application()
            own.router.add_get("/metrics", _exposition(metrics, ""))
            runner = web.AppRunner(own, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            metrics.address = (settings.host, listening_port(site))
            log.info(
                "metrics.listening", url=f"http://{settings.host}:{metrics.address[1]}/metrics"
            )
        task = asyncio.create_task(_follow_ledger(metrics, database), name="metrics-ledger")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if runner is not None:
                await runner.cleanup()

    return context


def listening_port(site: web.TCPSite) -> int:
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else 0


async def _follow_ledger(
    metrics: HotlineMetrics, database: async_sessionmaker[AsyncSession]
) -> None:
    while True:
        try:
            metrics.ledger = await read_ledger_totals(database)
        except Exception as error:
            # The database may be away for a while: the last totals stay, the next try comes.
            log.warning("metrics.ledger_unread", error=str(error))
        await asyncio.sleep(LEDGER_INTERVAL)
