"""Staff API keys: issued once to a named operator with a role, stored hashed, checked on
every staff request.

A key reads `crk_<key id>_<secret>`: the key id finds the row, the secret's SHA-256 is
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts.models import KEY_ID_LENGTH, OPERATOR_NAME_MAX_LENGTH, Operator
from callrouter.clock import Clock
from callrouter.errors import CallrouterError
from callrouter.http.access import STAFF_ROLES, Role

KEY_PREFIX = "crk_"
_SECRET_BYTES = 16

log = structlog.get_logger(__name__)


class OperatorError(CallrouterError):
    """An operator command that cannot be done; the message says why."""


@dataclass(frozen=True)
class NewOperator:
    """A freshly issued key, in clear: shown once, never stored so."""

    name: str
    api_key: str


@dataclass(frozen=True)
class OperatorView:
    name: str
    role: Role
    key_id: str
    created_at: datetime
    revoked_at: datetime | None


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


class OperatorService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(self, name: str, role: Role = Role.COORDINATOR) -> NewOperator:
        if role not in STAFF_ROLES:
            raise OperatorError(
                f"an operator's role is one of: {', '.join(STAFF_ROLES)}, not {role!r}"
            )
        cleaned = " ".join(name.split())
        if not cleaned:
            raise OperatorError("the operator name is empty")
        if len(cleaned) > OPERATOR_NAME_MAX_LENGTH:
            raise OperatorError(
                f"the operator name is longer than {OPERATOR_NAME_MAX_LENGTH} characters"
            )
        key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        try:
            async with self._sessions.begin() as session:
                session.add(
                    Operator(
                        name=cleaned,
                        key_id=key_id,
                        key_hash=_digest(secret),
                        role=role.value,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            raise OperatorError(
                f"operator {cleaned!r} already has an active key: revoke it first"
            ) from None
        log.info("accounts.operator_created", operator=cleaned, key_id=key_id, role=role.value)
        return NewOperator(name=cleaned, api_key=f"{KEY_PREFIX}{key_id}_{secret}")

    async def revoke(self, name: str) -> OperatorView:
        cleaned = " ".join(name.split())
        async with self._sessions.begin() as session:
            operator = await session.scalar(
                select(Operator).where(Operator.name == cleaned, Operator.revoked_at.is_(None))
            )
            if operator is None:
                raise OperatorError(f"no operator {cleaned!r} with an active key")
            operator.revoked_at = self._clock.now()
        log.info("accounts.operator_revoked", operator=cleaned, key_id=operator.key_id)
        return _view(operator)

    async def list(self) -> list[OperatorView]:
        async with self._sessions() as session:
            operators = (await session.scalars(select(Operator).order_by(Operator.id))).all()
        return [_view(operator) for operator in operators]

    async def authenticate(self, api_key: str) -> OperatorView | None:
        """The active operator holding `api_key`, or None for any wrong or revoked key."""
        key_id, separator, secret = api_key.removeprefix(KEY_PREFIX).partition("_")
        if not separator or len(key_id) != KEY_ID_LENGTH or not secret:
            return None
        async with self._sessions() as session:
            operator = await session.scalar(
                select(Operator).where(Operator.key_id == key_id, Operator.revoked_at.is_(None))
            )
        if operator is None or not hmac.compare_digest(operator.key_hash, _digest(secret)):
            return None
        return _view(operator)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _view(operator: Operator) -> OperatorView:
    return OperatorView(
        name=operator.name,
        role=Role(operator.role),
        key_id=operator.key_id,
        created_at=operator.created_at,
        revoked_at=operator.revoked_at,
    )
