"""Routes declared once: the decorator's arguments and the handler's annotations are all
there is, and they give both the checks on every request and the OpenAPI document.

    @HOLDER_ROUTES.route("POST", "/api/account/beneficiaries", "Let a caller id use the
                         account", roles=HOLDER, status=201, errors=(409,))
    async def add_beneficiary(call: Call, body: NewBeneficiary) -> Beneficiary: ...

A handler takes the `Call` first, then any of `path`, `query` and `body`, each annotated
with a pydantic model, and returns a pydantic model (the response body), or a `Plain` answer
of one (the same document as plain data, for answers too large to build a model per item).
In that order, every request is: credentials and role (401/403), path (404: a URL that
names nothing), query and body (400 with the field named), then the handler; the answer is
written to JSON bytes by pydantic, with times in the calendar's time zone, and sent as they
are.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import (
    Any,
    ClassVar,
    Generic,
    Protocol,
    TypeGuard,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
    runtime_checkable,
)
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from callrouter.http.access import Principal, Role
from callrouter.http.errors import ApiError, InvalidInput
from callrouter.http.fields import TIMEZONE
from callrouter.http.invalid import invalid_input

MAX_BODY_BYTES = 16 * 1024
_INPUTS = ("path", "query", "body")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Plain(Generic[M]):
    """An answer given as plain data (dicts and lists of what our own code computed) in the
    shape of model M's document, written by `writer`: a TypeAdapter of a TypedDict mirror of
    M. For answers of a thousand items: building and checking a model per item cost more than
    writing them (availability: 1,191 slots). The OpenAPI document describes M; the handler's
    tests compare its JSON with M's."""

    writer: TypeAdapter[Any]
    data: object


Handler = Callable[..., Awaitable[BaseModel | Plain[Any]]]
H = TypeVar("H", bound=Handler)


class Identifier(Protocol):
    """Finds who signed a request; 401 (ApiError) for missing or bad credentials."""

    async def identify(self, request: web.Request) -> Principal: ...


IDENTIFIER = web.AppKey("identifier", Identifier)
CALENDAR_ZONE = web.AppKey("calendar_zone", ZoneInfo)


@dataclass(frozen=True)
class Call:
    """One request to a declared route: the aiohttp request and who made it."""

    request: web.Request
    principal: Principal | None

    @property
    def who(self) -> Principal:
        """The signed-in caller; only routes with roles have one."""
        if self.principal is None:
            raise RuntimeError("a public route has no signed-in caller")
        return self.principal


@runtime_checkable
class ChoosesStatus(Protocol):
    """A response body that picks its status among the documented ones (a replay is 200,
    a health check with the PBX link down 503)."""

    def http_status(self, declared: int) -> int: ...


@runtime_checkable
class RendersItself(Protocol):
    """A response body that is not JSON (an iCalendar feed): its media type and bytes."""

    media_type: ClassVar[str]

    def rendered(self) -> bytes: ...


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    tag: str
    roles: frozenset[Role] | None
    status: int
    errors: tuple[int, ...]
    other_statuses: dict[int, str]
    handler: Handler
    response: type[BaseModel]
    inputs: dict[str, type[BaseModel]] = field(default_factory=dict)


class Endpoints:
    """The routes of one area of the API (one tag in the document)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.items: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        roles: Collection[Role] | None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        other_statuses: dict[int, str] | None = None,
    ) -> Callable[[H], H]:
        """`roles=None` is a public route; otherwise only these roles may call it."""

        def register(handler: H) -> H:
            hints = get_type_hints(handler)
            parameters = list(inspect.signature(handler).parameters)
            given = set(parameters[1:])
            # Read in this order whatever the signature's: a bad URL is a 404 before a 400.
            inputs = {name: hints[name] for name in _INPUTS if name in given}
            unknown = given - set(_INPUTS)
            if unknown or not all(_is_model(model) for model in inputs.values()):
                raise TypeError(f"{handler.__name__}: inputs are path, query, body models")
            response = hints.get("return")
            if get_origin(response) is Plain:
                (response,) = get_args(response)
            if not _is_model(response):
                raise TypeError(f"{handler.__name__} must return a pydantic model")
            self.items.append(
                Endpoint(
                    method=method,
                    path=path,
                    summary=summary,
                    tag=self.tag,
                    roles=None if roles is None else frozenset(roles),
                    status=status,
                    errors=errors,
                    other_statuses=dict(other_statuses or {}),
                    handler=handler,
                    response=response,
                    inputs=inputs,
                )
            )
            return handler

        return register


ENDPOINTS = web.AppKey("endpoints", list[Endpoint])


def add_endpoints(app: web.Application, endpoints: Endpoints) -> None:
    """Serve `endpoints` on `app`; the OpenAPI document lists what was added here."""
    if ENDPOINTS not in app:
        app[ENDPOINTS] = []
    for endpoint in endpoints.items:
        app[ENDPOINTS].append(endpoint)
        app.router.add_route(endpoint.method, endpoint.path, _dispatcher(endpoint))


def _is_model(value: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _dispatcher(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def dispatch(request: web.Request) -> web.Response:
        principal = None if endpoint.roles is None else await _admitted(request, endpoint.roles)
        arguments: dict[str, BaseModel] = {}
        for name, model in endpoint.inputs.items():
            arguments[name] = await _read(request, name, model)
        answer = await endpoint.handler(Call(request, principal), **arguments)
        status = endpoint.status
        if isinstance(answer, ChoosesStatus):
            status = answer.http_status(status)
        if isinstance(answer, RendersItself):
            return web.Response(
                body=answer.rendered(), status=status, content_type=answer.media_type
            )
        body = json_body(answer, request.app.get(CALENDAR_ZONE))
        return web.Response(
            body=body, status=status, content_type="application/json", charset="utf-8"
        )

    return dispatch


def json_body(answer: BaseModel | Plain[Any], zone: ZoneInfo | None) -> bytes:
    """The answer's JSON as sent, times in `zone`. pydantic writes the bytes itself: a dump
    to Python objects then `json.dumps` cost twice as much (the same document; compact, and
    non-ASCII text as UTF-8 rather than escapes)."""
    context = {TIMEZONE: zone}
    if isinstance(answer, Plain):
        return answer.writer.dump_json(answer.data, by_alias=True, context=context)
    return answer.model_dump_json(by_alias=True, context=context).encode()


async def _admitted(request: web.Request, roles: frozenset[Role]) -> Principal:
    identifier = request.app.get(IDENTIFIER)
    if identifier is None:
        # Fail closed: no way to check credentials means no way in.
        raise ApiError(401, "unauthorized", "this server checks no credentials")
    principal = await identifier.identify(request)
    if principal.role not in roles:
        raise ApiError(403, "forbidden", f"this route is for {_who(roles)}")
    return principal


def _who(roles: frozenset[Role]) -> str:
    if roles == {Role.HOLDER}:
        return "account holders: sign in with your account"
    names = [role.value for role in Role if role in roles and role is not Role.HOLDER]
    return "staff with the role " + " or ".join(names)


async def _read(request: web.Request, name: str, model: type[BaseModel]) -> BaseModel:
    try:
        if name == "path":
            return model.model_validate(dict(request.match_info))
        if name == "query":
            return model.model_validate(dict(request.query))
        return model.model_validate_json(await _body_bytes(request), strict=True)
    except ValidationError as error:
        invalid = invalid_input(error, model)
        if name == "path":
            message = f"nothing at {request.path}: {invalid.message}"
            raise ApiError(404, "not-found", message, field=invalid.field) from None
        raise invalid from None


async def _body_bytes(request: web.Request) -> bytes:
    too_large = f"the request body is larger than {MAX_BODY_BYTES} bytes"
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InvalidInput(None, too_large)
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(None, too_large)
    return raw
