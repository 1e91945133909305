"""The router's view of identity and points, on top of their services."""

from __future__ import annotations

from callrouter.identity.service import IdentityService
from callrouter.routing.decision import Caller, CallerStatus


class IdentityDirectory:
    """`CallerDirectory` over the identity service."""

    def __init__(self, identity: IdentityService) -> None:
        self._identity = identity

    async def identify(self, caller_id: str, account: str, pin: str) -> Caller:
        found = await self._identity.identify_caller(caller_id or None, account, pin)
        return Caller(
            status=CallerStatus(found.status.value),
            account_number=found.account_number,
            beneficiary=found.beneficiary_name,
        )
