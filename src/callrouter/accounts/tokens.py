"""Bearer tokens for signed-in account holders: stateless, HMAC-SHA256 signed.

A token is `<payload>.<signature>`, both base64url without padding; the payload is JSON
with the account number (`sub`), the role and the expiry (`exp`, epoch seconds). No
server-side session table: the signature proves the server issued it, the expiry bounds
its life, and changing the secret signs everyone out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callrouter.errors import CallrouterError

DEFAULT_TOKEN_LIFETIME = timedelta(hours=8)
MIN_SECRET_BYTES = 32
HOLDER_ROLE = "holder"


class InvalidToken(CallrouterError):
    """The token is malformed, forged, or expired; the message says which for the client."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    account_number: str
    role: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, secret: bytes, lifetime: timedelta = DEFAULT_TOKEN_LIFETIME) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret needs at least {MIN_SECRET_BYTES} bytes")
        if lifetime <= timedelta(0):
            raise ValueError("the token lifetime must be positive")
        self._secret = secret
        self._lifetime = lifetime

    def issue(self, account_number: str, role: str, now: datetime) -> IssuedToken:
        # Whole seconds: the expiry shown to the client is exactly the one signed.
        expires_at = (now + self._lifetime).astimezone(UTC).replace(microsecond=0)
        claims = {"sub": account_number, "role": role, "exp": int(expires_at.timestamp())}
        payload = _encode(json.dumps(claims, separators=(",", ":")).encode())
        return IssuedToken(f"{payload}.{self._sign(payload)}", expires_at)

    def verify(self, token: str, now: datetime) -> TokenClaims:
        payload, dot, signature = token.partition(".")
        if not dot or not payload or not signature:
            raise InvalidToken("the bearer token is malformed")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            raise InvalidToken("the bearer token is not valid")
        try:
            claims = json.loads(_decode(payload))
            subject, role, expiry = claims["sub"], claims["role"], claims["exp"]
        except (ValueError, KeyError, TypeError):
            raise InvalidToken("the bearer token is malformed") from None
        if not (isinstance(subject, str) and isinstance(role, str) and isinstance(expiry, int)):
            raise InvalidToken("the bearer token is malformed")
        expires_at = datetime.fromtimestamp(expiry, UTC)
        if now >= expires_at:
            raise InvalidToken("the session has expired: sign in again")
        return TokenClaims(account_number=subject, role=role, expires_at=expires_at)

    def _sign(self, payload: str) -> str:
        return _encode(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
