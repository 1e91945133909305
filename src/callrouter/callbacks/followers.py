"""What else follows a callback's steps, in the dispatcher's own transactions.

An appointment's call (Pass RDV) is a callback row; the appointment's `state` must move with
it (dialling, met, broken) in the very transaction that moves the callback, so that no
reader ever sees one without the other. The dispatcher knows nothing of appointments: it
calls a `CallbackFollower`, and callrouter.appointments.calling provides the one that
updates them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


class CallbackFollower(Protocol):
    async def claimed(self, connection: AsyncConnection, callback_ids: Sequence[int]) -> None:
        """Attempts were just claimed for these callbacks (dialling starts)."""
        ...

    async def connected(self, connection: AsyncConnection, callback_id: int, late: bool) -> None:
        """Expert and customer were bridged; `late`: after the deadline (a breach)."""
        ...

    async def breached(self, connection: AsyncConnection, callback_id: int) -> None:
        """The deadline passed unmet: the incident was just refunded."""
        ...


class NoFollower:
    """Pass 4H alone: nothing else follows."""

    async def claimed(self, connection: AsyncConnection, callback_ids: Sequence[int]) -> None:
        return None

    async def connected(self, connection: AsyncConnection, callback_id: int, late: bool) -> None:
        return None

    async def breached(self, connection: AsyncConnection, callback_id: int) -> None:
        return None
