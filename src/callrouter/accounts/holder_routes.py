"""Routes of the signed-in account holder: /api/account/... (their own account only)."""

from __future__ import annotations

from callrouter.accounts import schemas, views
from callrouter.accounts.context import ACCOUNT_API
from callrouter.accounts.problems import reported
from callrouter.accounts.queries import MovementFilter
from callrouter.accounts.tokens import HOLDER_ROLE
from callrouter.http.access import Role
from callrouter.http.endpoint import Call, Endpoints
from callrouter.http.errors import ApiError, InvalidInput

HOLDER_ROUTES = Endpoints("account holder")
HOLDER = (Role.HOLDER,)


@HOLDER_ROUTES.route(
    "POST",
    "/api/account/sign-in",
    "Sign in with the account number and the web access code",
    roles=None,
    errors=(401, 429),
)
async def sign_in(call: Call, body: schemas.SignIn) -> schemas.Token:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        account = await api.identity.verify_web_code(
            body.account_number, body.web_code, call.request.remote
        )
    issued = api.signer.issue(account.number, HOLDER_ROLE, api.clock.now())
    return schemas.Token(token=issued.token, expires_at=issued.expires_at)


@HOLDER_ROUTES.route(
    "GET", "/api/account", "The signed-in holder's account and balance", roles=HOLDER, errors=(404,)
)
async def account(call: Call) -> schemas.Account:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        summary = await api.identity.get_account(call.who.subject)
    return views.account(summary)


@HOLDER_ROUTES.route(
    "GET",
    "/api/account/movements",
    "Movements of the account, newest first",
    roles=HOLDER,
    errors=(404,),
)
async def movements(call: Call, query: schemas.MovementQuery) -> schemas.MovementPage:
    api = call.request.app[ACCOUNT_API]
    if query.from_ is not None and query.to is not None and query.to <= query.from_:
        raise InvalidInput("to", "to must be later than from")
    where = MovementFilter(
        kind=query.kind,
        since=query.from_,
        until=query.to,
        limit=query.limit,
        before_id=query.cursor,
    )
    with reported(api.clock):
        page = await api.queries.movements(call.who.subject, where)
    return views.movement_page(page)


@HOLDER_ROUTES.route(
    "GET",
    "/api/account/incidents",
    "Incidents of the account, newest first",
    roles=HOLDER,
    errors=(404,),
)
async def incidents(call: Call, query: schemas.PageQuery) -> schemas.IncidentPage:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        page = await api.queries.incidents(
            call.who.subject, limit=query.limit, before_id=query.cursor
        )
    return views.incident_page(page)


@HOLDER_ROUTES.route(
    "GET",
    "/api/account/incidents/{incident_id}",
    "One incident of the account, with its history",
    roles=HOLDER,
)
async def incident(call: Call, path: schemas.IncidentPath) -> schemas.Incident:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        view = await api.ledger.incident(path.incident_id)
    if view.account_number != call.who.subject:
        raise ApiError(403, "forbidden", f"incident {path.incident_id} belongs to another account")
    return views.incident(view)


@HOLDER_ROUTES.route(
    "GET",
    "/api/account/beneficiaries",
    "Active beneficiaries (ayants-droit) of the account",
    roles=HOLDER,
    errors=(404,),
)
async def list_beneficiaries(call: Call) -> schemas.BeneficiaryList:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        beneficiaries = await api.identity.list_beneficiaries(call.who.subject)
    return schemas.BeneficiaryList(items=[views.beneficiary(item) for item in beneficiaries])


@HOLDER_ROUTES.route(
    "POST",
    "/api/account/beneficiaries",
    "Let a caller id use the account",
    roles=HOLDER,
    status=201,
    errors=(404, 409),
)
async def add_beneficiary(call: Call, body: schemas.NewBeneficiary) -> schemas.Beneficiary:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        added = await api.identity.name_beneficiary(call.who.subject, body.name, body.caller_id)
    return views.beneficiary(added)


@HOLDER_ROUTES.route(
    "DELETE",
    "/api/account/beneficiaries/{caller_id}",
    "Stop recognising a beneficiary's caller id",
    roles=HOLDER,
    errors=(400,),
)
async def remove_beneficiary(call: Call, path: schemas.CallerIdPath) -> schemas.Beneficiary:
    api = call.request.app[ACCOUNT_API]
    with reported(api.clock):
        removed = await api.identity.remove_beneficiary(call.who.subject, path.caller_id)
    return views.beneficiary(removed)


@HOLDER_ROUTES.route(
    "POST",
    "/api/account/recharge",
    "Redeem a pack card's one-time recharge code",
    roles=HOLDER,
    status=201,
    errors=(404, 409, 410),
)
async def recharge(call: Call, body: schemas.Recharge) -> schemas.Recharged:
    api = call.request.app[ACCOUNT_API]
    number = call.who.subject
    with reported(api.clock):
        redemption = await api.ledger.redeem_code(number, body.code)
    if redemption.replayed:
        # The ledger hands a replay back as success so retries are safe; a person entering
        # the card twice must still learn that it credited nothing the second time.
        raise ApiError(
            409,
            "code-already-used",
            f"this recharge code was already credited to account {number}",
            field="code",
        )
    return schemas.Recharged(
        pack=redemption.pack_reference, points=redemption.points, balance=redemption.balance
    )
