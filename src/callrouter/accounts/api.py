"""Mounts the account API on an aiohttp application."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts import holder_routes, staff_routes
from callrouter.accounts.auth import Authenticator
from callrouter.accounts.context import ACCOUNT_API, AccountApi
from callrouter.accounts.operators import OperatorService
from callrouter.accounts.queries import AccountQueries
from callrouter.accounts.tokens import TokenSigner
from callrouter.clock import Clock
from callrouter.http.errors import error_middleware
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService

ROUTES = [
    web.post("/api/account/sign-in", holder_routes.sign_in),
    web.get("/api/account", holder_routes.account, allow_head=False),
    web.get("/api/account/movements", holder_routes.movements, allow_head=False),
    web.get("/api/account/incidents", holder_routes.incidents, allow_head=False),
    web.get("/api/account/incidents/{incident_id}", holder_routes.incident, allow_head=False),
    web.get("/api/account/beneficiaries", holder_routes.list_beneficiaries, allow_head=False),
    web.post("/api/account/beneficiaries", holder_routes.add_beneficiary),
    web.delete("/api/account/beneficiaries/{caller_id}", holder_routes.remove_beneficiary),
    web.post("/api/account/recharge", holder_routes.recharge),
    web.post("/api/incidents", staff_routes.open_incident),
    web.post("/api/incidents/{incident_id}/reclassify", staff_routes.reclassify),
    web.get("/api/accounts/{number}", staff_routes.account, allow_head=False),
]


def setup_account_api(
    app: web.Application,
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    secret: bytes,
    ledger_config: LedgerConfig,
) -> None:
    """Add the account holders' routes (/api/account/...), the coordinators' routes
    (/api/incidents..., /api/accounts/{number}) to `app`.

    `secret` signs the holders' tokens (32 bytes or more; changing it signs everyone out).
    The JSON error middleware is added unless the application already has it.
    """
    operators = OperatorService(sessions, clock)
    signer = TokenSigner(secret)
    app[ACCOUNT_API] = AccountApi(
        identity=IdentityService(sessions, clock),
        ledger=LedgerService(sessions, clock, ledger_config),
        queries=AccountQueries(sessions),
        signer=signer,
        auth=Authenticator(signer, operators, clock),
        clock=clock,
    )
    if error_middleware not in app.middlewares:
        app.middlewares.append(error_middleware)
    app.router.add_routes(ROUTES)
