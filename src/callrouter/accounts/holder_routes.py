"""Routes of the signed-in account holder: /api/account/... (their own account only)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from callrouter.accounts import views
from callrouter.accounts.context import ACCOUNT_API
from callrouter.accounts.problems import reported
from callrouter.accounts.queries import IncidentEntry, MovementEntry, MovementFilter, Page
from callrouter.accounts.tokens import HOLDER_ROLE
from callrouter.accounts.validation import (
    check_length,
    digits,
    encode_cursor,
    parse_bounded_int,
    parse_choice,
    parse_cursor,
    parse_instant,
    path_id,
    read_body,
    reject_unknown,
)
from callrouter.http.errors import ApiError, InvalidInput
from callrouter.identity.codes import WEB_CODE_MAX_LENGTH
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH
from callrouter.identity.service import NAME_MAX_LENGTH
from callrouter.ledger.service import MovementKind

CALLER_ID_MAX_LENGTH = 32
# A code is 28 symbols in 7 groups; room for spaces and dashes as typed off the card.
RECHARGE_CODE_MAX_LENGTH = 64
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


async def sign_in(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    body = await read_body(request, ("account_number", "web_code"))
    number = digits(
        "account_number",
        body.text("account_number", max_length=ACCOUNT_NUMBER_LENGTH),
        length=ACCOUNT_NUMBER_LENGTH,
    )
    code = body.text("web_code", max_length=WEB_CODE_MAX_LENGTH)
    with reported(api.clock):
        account = await api.identity.verify_web_code(number, code, request.remote)
    issued = api.signer.issue(account.number, HOLDER_ROLE, api.clock.now())
    return web.json_response(
        {"token": issued.token, "expires_at": views.instant(issued.expires_at)}
    )


async def account(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    with reported(api.clock):
        summary = await api.identity.get_account(number)
    return web.json_response(views.account(summary))


async def list_beneficiaries(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    with reported(api.clock):
        beneficiaries = await api.identity.list_beneficiaries(number)
    return web.json_response({"items": [views.beneficiary(item) for item in beneficiaries]})


async def add_beneficiary(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    body = await read_body(request, ("name", "caller_id"))
    name = body.text("name", max_length=NAME_MAX_LENGTH)
    caller_id = body.text("caller_id", max_length=CALLER_ID_MAX_LENGTH)
    with reported(api.clock):
        added = await api.identity.name_beneficiary(number, name, caller_id)
    return web.json_response(views.beneficiary(added), status=201)


async def remove_beneficiary(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    caller_id = check_length(
        "caller_id", request.match_info["caller_id"], max_length=CALLER_ID_MAX_LENGTH
    )
    with reported(api.clock):
        removed = await api.identity.remove_beneficiary(number, caller_id)
    return web.json_response(views.beneficiary(removed))


async def movements(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    where = _movement_filter(request.query)
    with reported(api.clock):
        page = await api.queries.movements(number, where)
    return web.json_response(
        {"items": [views.movement(item) for item in page.items], "next_cursor": _next(page)}
    )


async def incidents(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    reject_unknown(request.query, ("limit", "cursor"))
    limit, before_id = _page_bounds(request.query)
    with reported(api.clock):
        page = await api.queries.incidents(number, limit=limit, before_id=before_id)
    return web.json_response(
        {"items": [views.incident_entry(item) for item in page.items], "next_cursor": _next(page)}
    )


async def incident(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    incident_id = path_id(request, "incident_id", "incident")
    with reported(api.clock):
        view = await api.ledger.incident(incident_id)
    if view.account_number != number:
        raise ApiError(403, "forbidden", f"incident {incident_id} belongs to another account")
    return web.json_response(views.incident(view))


async def recharge(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    number = await api.auth.holder(request)
    body = await read_body(request, ("code",))
    code = body.text("code", max_length=RECHARGE_CODE_MAX_LENGTH)
    with reported(api.clock):
        redemption = await api.ledger.redeem_code(number, code)
    if redemption.replayed:
        # The ledger hands a replay back as success so retries are safe; a person entering
        # the card twice must still learn that it credited nothing the second time.
        raise ApiError(
            409,
            "code-already-used",
            f"this recharge code was already credited to account {number}",
            field="code",
        )
    return web.json_response(
        {
            "pack": redemption.pack_reference,
            "points": redemption.points,
            "balance": redemption.balance,
        },
        status=201,
    )


def _movement_filter(query: Mapping[str, str]) -> MovementFilter:
    reject_unknown(query, ("kind", "from", "to", "limit", "cursor"))
    kind = parse_choice("kind", query["kind"], MovementKind) if "kind" in query else None
    since = parse_instant("from", query["from"]) if "from" in query else None
    until = parse_instant("to", query["to"]) if "to" in query else None
    if since is not None and until is not None and until <= since:
        raise InvalidInput("to", "to must be later than from")
    limit, before_id = _page_bounds(query)
    return MovementFilter(kind=kind, since=since, until=until, limit=limit, before_id=before_id)


def _page_bounds(query: Mapping[str, str]) -> tuple[int, int | None]:
    limit = DEFAULT_PAGE_SIZE
    if "limit" in query:
        limit = parse_bounded_int("limit", query["limit"], minimum=1, maximum=MAX_PAGE_SIZE)
    before_id = parse_cursor(query["cursor"]) if "cursor" in query else None
    return limit, before_id


def _next(page: Page[MovementEntry] | Page[IncidentEntry]) -> str | None:
    return None if page.next_before_id is None else encode_cursor(page.next_before_id)
