"""Writes the call records off the callers' path, in batches.

One INSERT per batch instead of one transaction per call keeps the database work of a
decision out of the event loop's way while other callers are being routed (measured in
bench/routing_latency.py). A fail-safe flag is applied after the records queued before it,
so it always finds the decision it flags.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.calls.records import CallRecordData, add_call_records, mark_failsafe

log = structlog.get_logger(__name__)

#: Records kept while the database cannot take them (hours of calls at a busy hotline).
MAX_PENDING = 100_000


class CallRecordWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float = 0.2,
        max_batch: int = 500,
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._max_batch = max_batch
        self._records: list[CallRecordData] = []
        self._failsafes: list[str] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="call-record-writer")

    def add(self, record: CallRecordData) -> None:
        self._records.append(record)
        if len(self._records) > MAX_PENDING:
            # The database has been away for long: keep memory bounded, say what is lost.
            dropped = len(self._records) - MAX_PENDING
            del self._records[:dropped]
            log.error("calls.records_dropped", dropped=dropped, kept=MAX_PENDING)
        if len(self._records) >= self._max_batch:
            self._wake.set()

    def mark_failsafe(self, uniqueid: str) -> None:
        self._failsafes.append(uniqueid)
        self._wake.set()

    async def close(self) -> None:
        """Stop, after writing everything received (nothing is dropped on shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        """Write what was received; on return, all of it is committed: a flush already under
        way (the periodic one) is waited for, so a reader after this one sees its records."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        records, self._records = self._records, []
        failsafes, self._failsafes = self._failsafes, []
        if not records and not failsafes:
            return
        try:
            async with self._sessions.begin() as session:
                await add_call_records(session, records)
                for uniqueid in failsafes:
                    await mark_failsafe(session, uniqueid)
        except Exception:
            # Keep them for the next round: a database that is briefly away loses nothing.
            log.exception("calls.write_failed", records=len(records), failsafes=len(failsafes))
            self._records[:0] = records
            self._failsafes[:0] = failsafes
            raise

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            with contextlib.suppress(Exception):
                await self.flush()
