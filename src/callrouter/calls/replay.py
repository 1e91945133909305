"""At start-up, before routing begins: the journal's leftover records into the database.

A router that died left segments (`calls/journal.py`) whose records may or may not have
been committed: it may have died before its write, during it, or between the commit and
the deletion of the segments. So only the records the database lacks are inserted, found
by a decision's natural key, its call, instant and target (as `records.CallOutcome` finds
it: a call's decisions are seconds apart), then the segments are deleted. No unique
constraint is needed for that: nothing else writes records until routing begins, and one
process at a time holds a journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from callrouter.calls.journal import JournalError, RecordJournal, read_segment
from callrouter.calls.models import CallRecord
from callrouter.calls.records import CallRecordData, add_call_records
from callrouter.db.writer import write_transaction

log = structlog.get_logger(__name__)

#: Uniqueids per `IN (...)`: well under SQLite's limit on bound parameters.
_IN_CHUNK = 500

_Key = tuple[str, datetime, str]


async def replay_journal(
    engine: AsyncEngine, journal: RecordJournal, segments: Sequence[Path]
) -> int:
    """Writes the records of `segments` the database lacks, deletes the segments, and
    returns how many records were written."""
    if not segments:
        return 0
    try:
        records = [record for segment in segments for record in read_segment(segment)]
    except OSError as error:
        raise JournalError(
            f"call-record journal: cannot read {error.filename}: {error.strerror}"
        ) from None
    async with write_transaction(engine) as connection:
        uniqueids = sorted({record.uniqueid for record in records})
        known: set[_Key] = set()
        for start in range(0, len(uniqueids), _IN_CHUNK):
            rows = await connection.execute(
                select(CallRecord.uniqueid, CallRecord.decided_at, CallRecord.target).where(
                    CallRecord.uniqueid.in_(uniqueids[start : start + _IN_CHUNK])
                )
            )
            known.update((row.uniqueid, row.decided_at, row.target) for row in rows)
        missing: dict[_Key, CallRecordData] = {}
        for record in records:
            key = (record.uniqueid, record.decided_at, record.target)
            if key not in known:
                missing.setdefault(key, record)
        await add_call_records(connection, list(missing.values()))
    journal.delete(segments)
    log.info(
        "calls.journal_replayed",
        segments=len(segments),
        records=len(records),
        written=len(missing),
    )
    return len(missing)
