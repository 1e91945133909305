"""What every account API handler needs, stored once on the aiohttp application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from callrouter.accounts.queries import AccountQueries
from callrouter.accounts.tokens import TokenSigner
from callrouter.clock import Clock
from callrouter.identity.service import IdentityService
from callrouter.ledger.service import LedgerService


@dataclass(frozen=True)
class AccountApi:
    identity: IdentityService
    ledger: LedgerService
    queries: AccountQueries
    signer: TokenSigner
    clock: Clock


ACCOUNT_API = web.AppKey("account_api", AccountApi)
