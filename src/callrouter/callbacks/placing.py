"""What the dispatcher asks of the PBX side, and what it hears back (the `CallPlacer`).

The dispatcher owns the tables and the money; the placer owns the calls. Between them:
an attempt already claimed in the database goes out as an `AttemptRequest`, and its
outcome comes back once, as an `AttemptResult`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from callrouter.callbacks.rules import Outcome
from callrouter.errors import CallrouterError


@dataclass(frozen=True)
class AttemptRequest:
    attempt_id: int
    callback_id: int
    #: The dial string of the expert's phone: PJSIP/expert7 or Local/expert7@experts.
    expert_interface: str
    #: National form, e.g. 0612345678.
    customer_number: str
    expert_ring_timeout: timedelta
    customer_ring_timeout: timedelta
    #: Which prompt the expert hears ("callback" or "appointment").
    announcement: str


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    outcome: Outcome
    expert_answered_at: datetime | None
    customer_answered_at: datetime | None
    #: Expert and customer bridged: the guarantee is met then.
    connected_at: datetime | None
    #: None when sent at the connection, before the hang-up.
    ended_at: datetime | None


class PlacementFailed(CallrouterError):
    """The Originate could not be sent (link down): nothing was dialled."""


class CallPlacer(Protocol):
    async def place(self, request: AttemptRequest) -> None:
        """Send the Originate (its ActionID carries the attempt id); PlacementFailed if it
        could not be sent."""
        ...

    async def reconcile(self, attempt_ids: Sequence[int]) -> dict[int, bool]:
        """After a reconnection or a restart: is each attempt's call still up on the PBX?"""
        ...


ResultHandler = Callable[[AttemptResult], Awaitable[None]]
