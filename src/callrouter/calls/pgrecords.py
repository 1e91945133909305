"""The call records' statements straight to asyncpg, for the writer's batches on PostgreSQL.

Through SQLAlchemy Core a batch cost about 0.6 ms of CPU per record (a row dict per
record, the type processors, the statement's compilation); here a record is one tuple and
the statements stay prepared on the hot pool's connection. The columns are the table's,
so the INSERT follows the model. A message's outcome and the dialplan's fail-safes take
the same way (a batch with either went through SQLAlchemy and cost a millisecond or more
of the router's CPU; fail-safes come in bursts when the router is behind, so they are
flagged in two statements per batch, not two per fail-safe). SQLite keeps SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from callrouter.calls.models import CallRecord
from callrouter.calls.records import CallOutcome, CallRecordData
from callrouter.db.types import UTCDateTime

_TABLE = CallRecord.metadata.tables[CallRecord.__tablename__]
_FIELDS = frozenset(field.name for field in fields(CallRecordData))
#: Every column a record gives a value for (not the generated id).
_COLUMNS = tuple(column.name for column in _TABLE.columns if column.name in _FIELDS)
_INSTANTS = frozenset(
    column.name for column in _TABLE.columns if isinstance(column.type, UTCDateTime)
)
_INSTANT_POSITIONS = tuple(position for position, name in enumerate(_COLUMNS) if name in _INSTANTS)
# Quoted: "window" is a reserved word in PostgreSQL.
_QUOTED = ", ".join('"' + name + '"' for name in _COLUMNS)
_PLACEHOLDERS = ", ".join(f"${index}" for index in range(1, len(_COLUMNS) + 1))
INSERT_RECORD = f"INSERT INTO {_TABLE.name} ({_QUOTED}) VALUES ({_PLACEHOLDERS})"
#: As `records.record_outcomes`: the decision is found by its call, instant and target.
UPDATE_OUTCOME = (
    f"UPDATE {_TABLE.name} SET redirected = $4, error = $5, latency_ms = $6"
    " WHERE uniqueid = $1 AND decided_at = $2 AND target = $3"
)
#: As `records.record_failsafe`, for a batch: each call's latest decision is flagged; the
#: calls returned had one.
FLAG_LATEST = (
    f"WITH latest AS (SELECT DISTINCT ON (uniqueid) id, uniqueid FROM {_TABLE.name}"
    " WHERE uniqueid = ANY($1::text[]) ORDER BY uniqueid, decided_at DESC, id DESC)"
    f" UPDATE {_TABLE.name} SET failsafe = true FROM latest"
    f" WHERE {_TABLE.name}.id = latest.id RETURNING latest.uniqueid"
)


def record_values(record: CallRecordData) -> tuple[Any, ...]:
    """The record as the INSERT's parameters, in column order."""
    values = tuple(getattr(record, name) for name in _COLUMNS)
    for position in _INSTANT_POSITIONS:
        instant: datetime | None = values[position]
        # As UTCDateTime does: asyncpg would store a naive datetime as if it were UTC.
        if instant is not None and instant.tzinfo is None:
            raise ValueError(
                f"refusing to store a naive datetime ({_COLUMNS[position]}={instant.isoformat()})"
            )
    return values


async def insert_call_records(driver: Any, records: Sequence[CallRecordData]) -> None:
    """Adds the records on `driver` (an asyncpg connection, in the caller's transaction)."""
    if records:
        await driver.executemany(INSERT_RECORD, [record_values(record) for record in records])


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"refusing to store a naive datetime ({value.isoformat()})")
    return value


async def update_outcomes(driver: Any, outcomes: Sequence[CallOutcome]) -> None:
    """Writes the outcomes on their decisions' records (given in an earlier statement of the
    transaction or an earlier batch)."""
    if outcomes:
        await driver.executemany(
            UPDATE_OUTCOME,
            [
                (
                    outcome.uniqueid,
                    _instant(outcome.decided_at),
                    outcome.target,
                    outcome.redirected,
                    outcome.error,
                    outcome.latency_ms,
                )
                for outcome in outcomes
            ],
        )


async def flag_failsafes(driver: Any, failsafes: Sequence[CallRecordData]) -> None:
    """Flags each call's latest decision; a call never decided gets its fail-safe record
    (once, however many fail-safes it announced in the batch)."""
    if not failsafes:
        return
    uniqueids = list(dict.fromkeys(failsafe.uniqueid for failsafe in failsafes))
    flagged = {row[0] for row in await driver.fetch(FLAG_LATEST, uniqueids)}
    undecided: dict[str, CallRecordData] = {}
    for failsafe in failsafes:
        if failsafe.uniqueid not in flagged:
            undecided.setdefault(failsafe.uniqueid, failsafe)
    await insert_call_records(driver, list(undecided.values()))
