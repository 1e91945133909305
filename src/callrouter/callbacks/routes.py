"""Staff routes of the callbacks: the list with each one's standing and time left, one
callback with its attempts. Opening one is opening a Pass 4H incident (POST
/api/incidents)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from callrouter.callbacks import schemas
from callrouter.callbacks.opening import CallbackOpenings, CallbackRequestError
from callrouter.callbacks.queries import CallbackQueries, UnknownCallback
from callrouter.clock import Clock
from callrouter.http.access import STAFF_ROLES, visibility
from callrouter.http.endpoint import Call, Endpoints, add_endpoints
from callrouter.http.errors import ApiError


@dataclass(frozen=True)
class CallbacksApi:
    openings: CallbackOpenings
    queries: CallbackQueries
    clock: Clock


CALLBACKS_API = web.AppKey("callbacks_api", CallbacksApi)
CALLBACK_ROUTES = Endpoints("callbacks")


@CALLBACK_ROUTES.route(
    "GET",
    "/api/callbacks",
    "Pass 4H callbacks by deadline: pending, at risk, dialling, met, breached, cancelled",
    roles=STAFF_ROLES,
)
async def callbacks(call: Call, query: schemas.CallbacksQuery) -> schemas.CallbacksPage:
    api = call.request.app[CALLBACKS_API]
    seen = visibility(call.who.role)
    views = await api.queries.page(standing=query.standing, after=query.after, limit=query.limit)
    return schemas.CallbacksPage(
        at=api.clock.now(),
        callbacks=[schemas.summary(view, seen) for view in views],
        next_after=views[-1].id if len(views) == query.limit else None,
    )


@CALLBACK_ROUTES.route(
    "GET",
    "/api/callbacks/{callback_id}",
    "One callback with its attempts, leg by leg",
    roles=STAFF_ROLES,
    errors=(404,),
)
async def callback(call: Call, path: schemas.CallbackPath) -> schemas.CallbackDetail:
    api = call.request.app[CALLBACKS_API]
    try:
        view = await api.queries.show(path.callback_id)
    except UnknownCallback as error:
        raise ApiError(404, "not-found", str(error)) from None
    return schemas.detail(view, visibility(call.who.role))


@contextmanager
def callback_request_reported() -> Iterator[None]:
    """A Pass 4H opening without its domain or number: 400 naming the field."""
    try:
        yield
    except CallbackRequestError as error:
        raise ApiError(400, "invalid-input", str(error), field=error.field) from error


def setup_callback_api(app: web.Application, api: CallbacksApi) -> None:
    app[CALLBACKS_API] = api
    add_endpoints(app, CALLBACK_ROUTES)
