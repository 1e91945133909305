"""Storing and reading call records: one per routing decision (the supervisor's call log)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrouter.calls.models import CallRecord
from callrouter.passes import Pass

log = structlog.get_logger(__name__)

_PASS_VALUES = frozenset(item.value for item in Pass)


@dataclass(frozen=True, kw_only=True)
class CallRecordData:
    """What the router decided for one HotlineCall, and how long deciding took.

    Names are kept as the plain strings the PBX and the supervisor see: `caller_status` is
    the identification status ("caller-id", "pin", ...); `chosen_pass` a Pass value ("4h",
    "rdv", "prioritaire"); `target` the decision's target name (also set as HOTLINE_ROUTE
    for the CDR). `failsafe` is set when the dialplan had to route the call itself because
    no Redirect came in time.
    """

    channel: str
    uniqueid: str
    linkedid: str
    caller_id: str
    account_number: str | None
    caller_status: str
    chosen_pass: str | None
    window: str
    target: str
    queue: str | None
    queue_priority: int | None
    reason: str
    arrived_at: datetime | None
    decided_at: datetime
    latency_ms: float
    failsafe: bool = False

    def __post_init__(self) -> None:
        if self.chosen_pass is not None and self.chosen_pass not in _PASS_VALUES:
            raise ValueError(
                f"unknown pass {self.chosen_pass!r}, expected one of {sorted(_PASS_VALUES)}"
            )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: instants as ISO 8601 strings in UTC."""
        fields = asdict(self)
        for name in ("arrived_at", "decided_at"):
            instant = fields[name]
            fields[name] = instant.isoformat() if instant is not None else None
        return fields


async def add_call_records(session: AsyncSession, records: Sequence[CallRecordData]) -> None:
    """Add the records in one statement (the router writes them in batches); the caller
    commits."""
    if not records:
        return
    await session.execute(insert(CallRecord), [_row(record) for record in records])


def _row(record: CallRecordData) -> dict[str, object]:
    row = asdict(record)
    if record.chosen_pass is not None:
        row["chosen_pass"] = Pass(record.chosen_pass).value
    return row


async def recent_call_records(session: AsyncSession, limit: int = 100) -> list[CallRecordData]:
    """The latest `limit` decisions, newest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = await session.scalars(
        select(CallRecord).order_by(CallRecord.decided_at.desc(), CallRecord.id.desc()).limit(limit)
    )
    return [_data(row) for row in rows]


async def mark_failsafe(session: AsyncSession, uniqueid: str) -> None:
    """Flag that the dialplan routed the call itself (HotlineFailsafe); the caller commits.

    A channel retrying its PIN announces itself several times, so the flag goes on its
    latest decision. A failsafe for a call never decided (the router was down, or the
    decision not yet stored) has nothing to flag and is logged instead.
    """
    latest = await session.scalar(
        select(CallRecord)
        .where(CallRecord.uniqueid == uniqueid)
        .order_by(CallRecord.decided_at.desc(), CallRecord.id.desc())
        .limit(1)
    )
    if latest is None:
        log.warning("calls.failsafe_without_decision", uniqueid=uniqueid)
        return
    latest.failsafe = True
    await session.flush()


def _data(row: CallRecord) -> CallRecordData:
    return CallRecordData(
        channel=row.channel,
        uniqueid=row.uniqueid,
        linkedid=row.linkedid,
        caller_id=row.caller_id,
        account_number=row.account_number,
        caller_status=row.caller_status,
        chosen_pass=row.chosen_pass,
        window=row.window,
        target=row.target,
        queue=row.queue,
        queue_priority=row.queue_priority,
        reason=row.reason,
        arrived_at=row.arrived_at,
        decided_at=row.decided_at,
        latency_ms=row.latency_ms,
        failsafe=row.failsafe,
    )
