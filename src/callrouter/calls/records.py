"""Storing and reading call records: one per routing decision (the supervisor's call log)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from callrouter.calls.models import CallRecord
from callrouter.passes import Pass

_PASS_VALUES = frozenset(item.value for item in Pass)
#: The table itself, for plain Core statements (no ORM unit of work on the write path).
_TABLE = CallRecord.metadata.tables[CallRecord.__tablename__]
#: Uniqueids per `IN (...)`: well under SQLite's limit on bound parameters.
_IN_CHUNK = 500


@dataclass(frozen=True, kw_only=True)
class CallRecordData:
    """What the router decided for one HotlineCall, and how long deciding took.

    Names are kept as the plain strings the PBX and the supervisor see: `caller_status` is
    the identification status ("caller-id", "pin", ...); `chosen_pass` a Pass value ("4h",
    "rdv", "prioritaire"); `target` the decision's target name (also set as HOTLINE_ROUTE
    for the CDR). `failsafe` is set when the dialplan had to route the call itself because
    no Redirect came in time. `redirected` says whether the Redirect took effect, `error`
    why not; `reconciled_at` is set on a record written or corrected from the PBX's state
    after a (re)connection (a fail-safe call, a decision whose record was lost, a Redirect
    whose answer the link lost).
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
    redirected: bool = True
    error: str | None = None
    reconciled_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.chosen_pass is not None and self.chosen_pass not in _PASS_VALUES:
            raise ValueError(
                f"unknown pass {self.chosen_pass!r}, expected one of {sorted(_PASS_VALUES)}"
            )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: instants as ISO 8601 strings in UTC."""
        fields = asdict(self)
        for name in ("arrived_at", "decided_at", "reconciled_at"):
            instant = fields[name]
            fields[name] = instant.isoformat() if instant is not None else None
        return fields


async def add_call_records(
    session: AsyncSession | AsyncConnection, records: Sequence[CallRecordData]
) -> None:
    """Add the records in one statement (the router writes them in batches); the caller
    commits."""
    if not records:
        return
    # The table's own INSERT, not the ORM's bulk path: a third of the CPU per write.
    await session.execute(insert(_TABLE), [_row(record) for record in records])


@dataclass(frozen=True, kw_only=True)
class CallOutcome:
    """How a decision stored before it was carried out went (a message: see
    `routing/service.py`): the answer to its Redirect, and the latency once it was sent.

    The decision is found by its call, instant and target: a call's decisions (one per
    attempt) are made seconds apart, and a message, which ends the call, is its last.
    """

    uniqueid: str
    decided_at: datetime
    target: str
    redirected: bool
    error: str | None
    latency_ms: float


_OUTCOME = (
    update(_TABLE)
    .where(_TABLE.c.uniqueid == bindparam("outcome_uniqueid"))
    .where(_TABLE.c.decided_at == bindparam("outcome_decided_at"))
    .where(_TABLE.c.target == bindparam("outcome_target"))
    .values(
        redirected=bindparam("outcome_redirected"),
        error=bindparam("outcome_error"),
        latency_ms=bindparam("outcome_latency_ms"),
    )
)


async def record_outcomes(
    session: AsyncSession | AsyncConnection, outcomes: Sequence[CallOutcome]
) -> None:
    """Write the outcomes on their decisions' records, in one statement; the caller
    commits (after the records, so a decision and its outcome may share a batch)."""
    if not outcomes:
        return
    await session.execute(
        _OUTCOME,
        [
            {
                "outcome_uniqueid": outcome.uniqueid,
                "outcome_decided_at": outcome.decided_at,
                "outcome_target": outcome.target,
                "outcome_redirected": outcome.redirected,
                "outcome_error": outcome.error,
                "outcome_latency_ms": outcome.latency_ms,
            }
            for outcome in outcomes
        ],
    )


def _row(record: CallRecordData) -> dict[str, object]:
    # Not `asdict`: it deep-copies every value (datetimes included) of every record.
    row = {name: getattr(record, name) for name in _FIELD_NAMES}
    if record.chosen_pass is not None:
        row["chosen_pass"] = Pass(record.chosen_pass).value
    return row


_FIELD_NAMES = tuple(field.name for field in fields(CallRecordData))


async def recent_call_records(session: AsyncSession, limit: int = 100) -> list[CallRecordData]:
    """The latest `limit` decisions, newest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = await session.scalars(
        select(CallRecord).order_by(CallRecord.decided_at.desc(), CallRecord.id.desc()).limit(limit)
    )
    return [_data(row) for row in rows]


async def record_failsafe(
    session: AsyncSession | AsyncConnection, failsafe: CallRecordData
) -> None:
    """The dialplan routed the call itself (HotlineFailsafe); the caller commits.

    A channel retrying its PIN announces itself several times, so the flag goes on its
    latest decision. A call never decided (the router was down, the database away, the
    decision not yet stored) gets `failsafe`, the fail-safe's own record.
    """
    latest = await session.scalar(
        select(CallRecord.id)
        .where(CallRecord.uniqueid == failsafe.uniqueid)
        .order_by(CallRecord.decided_at.desc(), CallRecord.id.desc())
        .limit(1)
    )
    if latest is None:
        await add_call_records(session, [failsafe])
    else:
        await session.execute(update(_TABLE).where(_TABLE.c.id == latest).values(failsafe=True))


@dataclass(frozen=True)
class LatestRecord:
    """What reconciliation needs of a call's latest record."""

    id: int
    target: str
    queue: str | None
    redirected: bool
    failsafe: bool


async def latest_call_records(
    session: AsyncSession, uniqueids: Sequence[str]
) -> dict[str, LatestRecord]:
    """The latest record of each call in `uniqueids` that has one."""
    latest: dict[str, LatestRecord] = {}
    for start in range(0, len(uniqueids), _IN_CHUNK):
        rows = await session.execute(
            select(
                CallRecord.id,
                CallRecord.uniqueid,
                CallRecord.target,
                CallRecord.queue,
                CallRecord.redirected,
                CallRecord.failsafe,
            )
            .where(CallRecord.uniqueid.in_(uniqueids[start : start + _IN_CHUNK]))
            .order_by(CallRecord.decided_at, CallRecord.id)
        )
        for row in rows:
            latest[row.uniqueid] = LatestRecord(
                row.id, row.target, row.queue, row.redirected, row.failsafe
            )
    return latest


async def confirm_redirect(session: AsyncSession, record_id: int, at: datetime) -> None:
    """The PBX shows the caller where the decision sent them: the Redirect took effect
    although its answer was lost with the link. The caller commits."""
    await session.execute(
        update(CallRecord)
        .where(CallRecord.id == record_id)
        .values(redirected=True, error=None, reconciled_at=at)
    )


async def flag_failsafe(session: AsyncSession, record_id: int, at: datetime) -> None:
    """The decision was not carried out and the dialplan's fail-safe queued the caller."""
    await session.execute(
        update(CallRecord).where(CallRecord.id == record_id).values(failsafe=True, reconciled_at=at)
    )


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
        redirected=row.redirected,
        error=row.error,
        reconciled_at=row.reconciled_at,
    )
