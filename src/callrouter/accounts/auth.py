"""Who is calling the API: an account holder (signed token) or a coordinator (API key).

Both present `Authorization: Bearer <credential>`; a coordinator's API key is told apart by
its `crk_` prefix. A missing or bad credential is 401; a good one of the wrong kind is 403.
"""

from __future__ import annotations

from aiohttp import web

from callrouter.accounts.operators import OperatorService, OperatorView, looks_like_api_key
from callrouter.accounts.tokens import HOLDER_ROLE, InvalidToken, TokenSigner
from callrouter.clock import Clock
from callrouter.http.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="callrouter"'}
MAX_CREDENTIAL_LENGTH = 1024


class Authenticator:
    def __init__(self, signer: TokenSigner, operators: OperatorService, clock: Clock) -> None:
        self._signer = signer
        self._operators = operators
        self._clock = clock

    async def holder(self, request: web.Request) -> str:
        """The account number of the signed-in holder making the request."""
        credential = _bearer(request)
        if looks_like_api_key(credential):
            raise ApiError(
                403, "forbidden", "this route is for account holders: sign in with your account"
            )
        try:
            claims = self._signer.verify(credential, self._clock.now())
        except InvalidToken as error:
            raise _unauthorized(str(error)) from None
        if claims.role != HOLDER_ROLE:
            raise ApiError(403, "forbidden", "this route is for account holders")
        return claims.account_number

    async def coordinator(self, request: web.Request) -> OperatorView:
        """The coordinator whose API key signs the request."""
        credential = _bearer(request)
        if not looks_like_api_key(credential):
            # A holder's token, even a valid one, never opens staff routes.
            raise ApiError(403, "forbidden", "this route is for coordinators (API key required)")
        operator = await self._operators.authenticate(credential)
        if operator is None:
            raise _unauthorized("the API key is not valid or was revoked")
        return operator


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
