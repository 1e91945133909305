"""Who is calling the API: an account holder (signed token) or staff (API key with a role).

Both present `Authorization: Bearer <credential>`; an API key is told apart by its `crk_`
prefix. A missing or bad credential is 401; which roles a route admits is declared with the
route (callrouter.http.endpoint), and a good credential of another role gets 403 there.
"""

from __future__ import annotations

from aiohttp import web

from callrouter.accounts.operators import OperatorService, looks_like_api_key
from callrouter.accounts.tokens import HOLDER_ROLE, InvalidToken, TokenSigner
from callrouter.clock import Clock
from callrouter.http.access import Principal, Role
from callrouter.http.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="callrouter"'}
MAX_CREDENTIAL_LENGTH = 1024


class Authenticator:
    def __init__(self, signer: TokenSigner, operators: OperatorService, clock: Clock) -> None:
        self._signer = signer
        self._operators = operators
        self._clock = clock

    async def identify(self, request: web.Request) -> Principal:
        credential = _bearer(request)
        if looks_like_api_key(credential):
            operator = await self._operators.authenticate(credential)
            if operator is None:
                raise _unauthorized("the API key is not valid or was revoked")
            return Principal(role=operator.role, subject=operator.name, key_id=operator.key_id)
        try:
            claims = self._signer.verify(credential, self._clock.now())
        except InvalidToken as error:
            raise _unauthorized(str(error)) from None
        if claims.role != HOLDER_ROLE:
            raise _unauthorized("the bearer token is not valid")
        return Principal(role=Role.HOLDER, subject=claims.account_number)


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise _unauthorized("missing credentials: send 'Authorization: Bearer <token>'")
    if len(credential) > MAX_CREDENTIAL_LENGTH:
        raise _unauthorized("the bearer credential is malformed")
    return credential


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=_CHALLENGE)
