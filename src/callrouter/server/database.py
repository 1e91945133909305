"""The database's cleanup context: the schema upgraded, the PostgreSQL hot pool and
caller index, the record journal replayed, then the call-record writer; at shutdown the
writer writes what is left before the database goes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from callrouter.calls.journal import RecordJournal, journal_directory
from callrouter.calls.replay import replay_journal
from callrouter.calls.writer import CallRecordWriter
from callrouter.db.migrate import upgrade_async
from callrouter.server.hotline import ENGINE, HOTLINE

log = structlog.get_logger(__name__)


async def database_context(app: web.Application) -> AsyncIterator[None]:
    hotline, engine = app[HOTLINE], app[ENGINE]
    await upgrade_async(hotline.database_url)
    log.info("database.ready", url=engine.url.render_as_string(hide_password=True))
    hot_pool = hotline.hot_pool
    if hot_pool is not None:
        await hot_pool.open()
    callers = hotline.callers
    if callers is not None:
        await callers.start()
    # Before routing begins, and before any reconciliation could recover the same calls.
    journal = RecordJournal(
        journal_directory(hotline.config.database.journal_dir, hotline.database_url)
    )
    try:
        await replay_journal(engine, journal, journal.open())
    except BaseException:
        journal.close()
        raise
    records = CallRecordWriter(engine, hot_pool=hot_pool, journal=journal)
    records.start()
    hotline.records = records
    try:
        yield
    finally:
        try:
            try:
                await records.close()
            finally:
                journal.close()
        finally:
            try:
                if callers is not None:
                    await callers.close()
                if hot_pool is not None:
                    await hot_pool.close()
            finally:
                await engine.dispose()
