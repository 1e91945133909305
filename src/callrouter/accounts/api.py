"""Mounts the account API on an aiohttp application."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts.auth import Authenticator
from callrouter.accounts.context import ACCOUNT_API, AccountApi
from callrouter.accounts.holder_routes import HOLDER_ROUTES
from callrouter.accounts.operators import OperatorService
from callrouter.accounts.queries import AccountQueries
from callrouter.accounts.staff_routes import STAFF_ROUTES
from callrouter.accounts.tokens import TokenSigner
from callrouter.clock import Clock
from callrouter.http.endpoint import IDENTIFIER, add_endpoints
from callrouter.http.errors import error_middleware
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService


def setup_account_api(
    app: web.Application,
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    secret: bytes,
    ledger_config: LedgerConfig,
) -> None:
    """Add the account holders' routes (/api/account/...) and the staff routes
    (/api/incidents..., /api/accounts/{number}) to `app`, and check every protected route's
    credentials (holders' tokens, staff API keys), whichever module declared the route.

    `secret` signs the holders' tokens (32 bytes or more; changing it signs everyone out).
    The JSON error middleware is added unless the application already has it.
    """
    operators = OperatorService(sessions, clock)
    signer = TokenSigner(secret)
    auth = Authenticator(signer, operators, clock)
    app[ACCOUNT_API] = AccountApi(
        identity=IdentityService(sessions, clock),
        ledger=LedgerService(sessions, clock, ledger_config),
        queries=AccountQueries(sessions),
        signer=signer,
        clock=clock,
    )
    app[IDENTIFIER] = auth
    if error_middleware not in app.middlewares:
        app.middlewares.append(error_middleware)
    add_endpoints(app, HOLDER_ROUTES)
    add_endpoints(app, STAFF_ROUTES)
