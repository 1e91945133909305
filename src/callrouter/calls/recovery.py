"""After every AMI login: read where the PBX holds the hotline's calls, then write the
call records `calls/reconcile.py` says are missing or wrong.

The PBX is read once per login: one CoreShowChannels, then one pipelined write of Getvar
actions for the calls whose records may need them (calls with a settled record cost
nothing). Before the records are read, the decisions already under way are allowed to
finish and the writer is flushed, so a call routed during reconciliation is not recorded
twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.ami.message import Message
from callrouter.calls.reconcile import (
    VARIABLES,
    ConfirmRedirect,
    CreateRecord,
    Fix,
    FlagFailsafe,
    HeldCall,
    PlacedChannel,
    held_call,
    needs_variables,
    placed_channel,
    plan,
)
from callrouter.calls.records import (
    add_call_records,
    confirm_redirect,
    flag_failsafe,
    latest_call_records,
)
from callrouter.errors import CallrouterError
from callrouter.routing.decision import RoutingPolicy

log = structlog.get_logger(__name__)


class PBXState(Protocol):
    async def send_list_action(
        self, name: str, headers: Sequence[tuple[str, str]] = (), *, timeout: float | None = None
    ) -> list[Message]: ...

    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> Sequence[Message | CallrouterError]: ...


@dataclass(frozen=True)
class Reconciled:
    """What one reconciliation did, for the log and the tests."""

    held: int
    created: int
    confirmed: int
    flagged: int


async def reconcile_records(
    pbx: PBXState,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: Callable[[], datetime],
    window: Callable[[datetime], str],
    policy: RoutingPolicy,
    settle: Callable[[], Awaitable[None]],
    resolve_holds: Callable[[Sequence[Message]], Awaitable[None]] | None = None,
) -> Reconciled:
    """`settle` lets the decisions under way finish and flushes the record writer;
    `resolve_holds` gets the same channel list (routing/billing.py), once they are settled."""
    channels = await pbx.send_list_action("CoreShowChannels")
    placed = [channel for item in channels if (channel := placed_channel(item)) is not None]
    await settle()
    if resolve_holds is not None:
        try:
            await resolve_holds(channels)
        except Exception:
            # The database is away: the holds wait for the next login (or their maximum
            # age); the records are still worth reconciling.
            log.exception("billing.resolve_failed")
    async with sessions() as session:
        latest = await latest_call_records(session, [channel.uniqueid for channel in placed])
    wanted = [channel for channel in placed if needs_variables(latest.get(channel.uniqueid))]
    held = await _read_variables(pbx, wanted)
    at = now()
    fixes = plan(held, latest, now=at, window=window(at), policy=policy)
    if fixes:
        async with sessions.begin() as session:
            await _apply(session, fixes, at)
    done = Reconciled(
        held=len(placed),
        created=sum(isinstance(fix, CreateRecord) for fix in fixes),
        confirmed=sum(isinstance(fix, ConfirmRedirect) for fix in fixes),
        flagged=sum(isinstance(fix, FlagFailsafe) for fix in fixes),
    )
    log.info(
        "calls.reconciled",
        held=done.held,
        created=done.created,
        confirmed=done.confirmed,
        flagged=done.flagged,
    )
    return done


async def _read_variables(pbx: PBXState, placed: Sequence[PlacedChannel]) -> list[HeldCall]:
    """Every channel's VARIABLES in one pipelined write; a channel that hung up meanwhile
    (Getvar answers an error) is left out."""
    if not placed:
        return []
    answers = await pbx.send_actions(
        [
            ("Getvar", (("Channel", channel.channel), ("Variable", name)))
            for channel in placed
            for name in VARIABLES
        ]
    )
    held: list[HeldCall] = []
    for index, channel in enumerate(placed):
        values: list[str] = []
        for answer in answers[index * len(VARIABLES) : (index + 1) * len(VARIABLES)]:
            if not isinstance(answer, Message):
                break
            values.append(answer.get("Value") or "")
        else:
            held.append(held_call(channel, values))
    return held


async def _apply(session: AsyncSession, fixes: Sequence[Fix], at: datetime) -> None:
    await add_call_records(session, [fix.record for fix in fixes if isinstance(fix, CreateRecord)])
    for fix in fixes:
        if isinstance(fix, ConfirmRedirect):
            await confirm_redirect(session, fix.record_id, at)
        elif isinstance(fix, FlagFailsafe):
            await flag_failsafe(session, fix.record_id, at)
