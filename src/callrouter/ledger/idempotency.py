"""Idempotency keys: a replayed request finds the first result instead of moving points twice.

Every movement, incident and incident event carries a unique key derived from the request
that made it. Two racing replays cannot both insert: the loser's transaction rolls back on
the unique key and it returns the winner's result instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from callrouter.ledger.errors import InvalidRequest
from callrouter.ledger.models import IDEMPOTENCY_KEY_LENGTH

#: What the ledger puts before the key of an incident's opening in its debit's key.
OPEN_KEY_PREFIX = "incident-open:"
#: Room is left for the prefix the ledger puts before a caller's key in a movement's key.
MAX_KEY_LENGTH = IDEMPOTENCY_KEY_LENGTH - len(OPEN_KEY_PREFIX)

T = TypeVar("T")


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters: {key!r}")


async def idempotent(
    work: Callable[[], Awaitable[T]], replay: Callable[[], Awaitable[T | None]]
) -> T:
    """Run `work`; if it lost a race to the same request (a unique key violation), the
    transaction was rolled back and the winner's result is returned instead."""
    try:
        return await work()
    except IntegrityError:
        earlier = await replay()
        if earlier is None:
            raise
        return earlier


async def idempotent_checked(
    work: Callable[[], Awaitable[T]], replay: Callable[[], Awaitable[T | None]]
) -> T:
    """As `idempotent`, for requests whose key is looked up before doing anything."""
    earlier = await replay()
    if earlier is not None:
        return earlier
    return await idempotent(work, replay)
