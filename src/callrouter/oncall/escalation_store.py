"""Logging and storing the escalation steps tracking.py finds.

The AMI reader hands steps over without waiting (`add`); one task owned by the store
writes them in order, a batch per transaction, and `close` writes what is left. A
database that is away loses no step: the batch is kept and tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.oncall.escalation_models import OnCallEscalation, OnCallEscalationStep
from callrouter.oncall.tracking import EscalationState, EscalationStep

log = structlog.get_logger(__name__)

#: Seconds before a batch the database refused is tried again.
RETRY_DELAY = 1.0


@dataclass(frozen=True)
class StoredEscalation:
    caller_uniqueid: str
    caller_id: str
    started_at: datetime
    state: str
    layer: str
    pass_number: int
    technician: str | None
    updated_at: datetime


def log_step(step: EscalationStep) -> None:
    escalation = step.escalation
    log.info(
        "oncall.escalation",
        step=step.kind.value,
        caller_uniqueid=escalation.caller_uniqueid,
        caller_id=escalation.caller_id,
        layer=escalation.layer.value,
        pass_number=escalation.pass_number,
        state=escalation.state.value,
        technician=step.technician,
        waited=round(step.waited, 1),
    )


class EscalationStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[EscalationStep] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="oncall-escalation-store")

    def add(self, steps: Sequence[EscalationStep]) -> None:
        for step in steps:
            log_step(step)
        if steps:
            self._pending.extend(steps)
            self._idle.clear()
            self._wake.set()

    async def flush(self) -> None:
        """Waits until every step added so far is written (tests, shutdown)."""
        await self._idle.wait()

    async def close(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.flush()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def unanswered(self, since: datetime, limit: int) -> list[StoredEscalation]:
        """Emergencies nobody confirmed since `since`, newest first: each is owed a call."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OnCallEscalation)
                .where(
                    OnCallEscalation.state == EscalationState.UNANSWERED.value,
                    OnCallEscalation.updated_at >= since,
                )
                .order_by(OnCallEscalation.updated_at.desc(), OnCallEscalation.id.desc())
                .limit(limit)
            )
            return [_stored(row) for row in rows]

    async def steps_of(self, caller_uniqueid: str) -> list[tuple[str, str, str | None]]:
        """(step, layer, technician) of one emergency, in order (tests and support)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OnCallEscalationStep)
                .where(OnCallEscalationStep.caller_uniqueid == caller_uniqueid)
                .order_by(OnCallEscalationStep.id)
            )
            return [(row.kind, row.layer, row.technician) for row in rows]

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            while batch:
                try:
                    await self._write(batch)
                except Exception:
                    log.exception("oncall.escalation_not_stored", steps=len(batch))
                    await asyncio.sleep(RETRY_DELAY)
                    continue
                batch = []
            if not self._pending:
                self._idle.set()

    async def _write(self, batch: Sequence[EscalationStep]) -> None:
        async with self._sessions.begin() as session:
            for step in batch:
                escalation = step.escalation
                session.add(
                    OnCallEscalationStep(
                        caller_uniqueid=escalation.caller_uniqueid,
                        at=step.at,
                        kind=step.kind.value,
                        layer=escalation.layer.value,
                        pass_number=escalation.pass_number,
                        technician=(step.technician or "")[:200] or None,
                        waited_seconds=step.waited,
                    )
                )
                row = await session.scalar(
                    select(OnCallEscalation).where(
                        OnCallEscalation.caller_uniqueid == escalation.caller_uniqueid
                    )
                )
                if row is None:
                    row = OnCallEscalation(
                        caller_uniqueid=escalation.caller_uniqueid,
                        started_at=escalation.started_at,
                    )
                    session.add(row)
                row.caller_id = escalation.caller_id[:40]
                row.channel = escalation.channel[:120]
                row.state = escalation.state.value
                row.layer = escalation.layer.value
                row.pass_number = escalation.pass_number
                row.technician = (escalation.technician or "")[:200] or None
                row.updated_at = step.at
                await session.flush()


def _stored(row: OnCallEscalation) -> StoredEscalation:
    return StoredEscalation(
        caller_uniqueid=row.caller_uniqueid,
        caller_id=row.caller_id,
        started_at=row.started_at,
        state=row.state,
        layer=row.layer,
        pass_number=row.pass_number,
        technician=row.technician,
        updated_at=row.updated_at,
    )
