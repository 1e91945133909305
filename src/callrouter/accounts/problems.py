"""Domain errors as the API reports them: the status a client can act on, the service's own
message (already written for people), and the field at fault when there is one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from math import ceil

from callrouter.clock import Clock
from callrouter.errors import CallrouterError
from callrouter.http.errors import ApiError
from callrouter.identity.errors import (
    AccountNotFound,
    BeneficiaryExists,
    BeneficiaryNotFound,
    InvalidCallerId,
    InvalidCredentials,
    InvalidName,
    SignInLocked,
)
from callrouter.ledger.errors import (
    IdempotencyKeyReused,
    InsufficientBalance,
    RechargeCodeAlreadyRedeemed,
    RechargeCodeExpired,
    UnknownIncident,
    UnknownRechargeCode,
)
from callrouter.ledger.prices import EmergencyUnavailable


def locked(error: SignInLocked, now: datetime) -> ApiError:
    """429 with Retry-After: the sign-in is refused until the lock ends, whatever the code."""
    seconds = max(1, ceil((error.locked_until - now).total_seconds()))
    return ApiError(429, "locked", str(error), headers={"Retry-After": str(seconds)})


def api_error(error: CallrouterError, clock: Clock) -> ApiError:
    match error:
        case InvalidCredentials():
            return ApiError(401, "invalid-credentials", str(error))
        case SignInLocked():
            return locked(error, clock.now())
        case AccountNotFound() | BeneficiaryNotFound() | UnknownIncident():
            return ApiError(404, "not-found", str(error))
        case BeneficiaryExists():
            return ApiError(409, "conflict", str(error))
        case InsufficientBalance():
            # 402: the request is right, only the points are missing; a recharge fixes it.
            return ApiError(402, "insufficient-balance", str(error))
        case EmergencyUnavailable():
            return ApiError(422, "emergency-unavailable", str(error), field="emergency")
        case IdempotencyKeyReused():
            return ApiError(409, "idempotency-key-reused", str(error), field="idempotency_key")
        case UnknownRechargeCode():
            return ApiError(404, "unknown-code", str(error), field="code")
        case RechargeCodeAlreadyRedeemed():
            return ApiError(409, "code-already-used", str(error), field="code")
        case RechargeCodeExpired():
            return ApiError(410, "code-expired", str(error), field="code")
        case InvalidCallerId():
            return ApiError(400, "invalid-input", str(error), field="caller_id")
        case InvalidName():
            return ApiError(400, "invalid-input", str(error), field="name")
    return ApiError(422, "refused", str(error))


@contextmanager
def reported(clock: Clock) -> Iterator[None]:
    """Turns the services' errors raised inside into the API's errors."""
    try:
        yield
    except CallrouterError as error:
        raise api_error(error, clock) from error
