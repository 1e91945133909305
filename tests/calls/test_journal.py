"""The journal of message records not yet committed: appended before the Redirect, sealed
with the writer's batch, deleted once it commits, kept when it fails, replayed once at the
next start (issue 7, item 12)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calls import writer as writer_module
from callrouter.calls.journal import (
    JournalError,
    RecordJournal,
    journal_directory,
    read_segment,
)
from callrouter.calls.records import CallRecordData
from callrouter.calls.replay import replay_journal
from callrouter.calls.writer import CallRecordWriter

from .conftest import database_away
from .test_records import CLOSED
from .test_writer import stored


def message(n: int) -> CallRecordData:
    return replace(CLOSED, uniqueid=f"1741000100.{n}", redirected=False, error="unanswered")


def segments(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("segment-*"))


@pytest.fixture
def journal(tmp_path: Path) -> RecordJournal:
    opened = RecordJournal(tmp_path / "journal")
    assert opened.open() == []
    return opened


def test_a_record_reads_back_as_it_was_written(journal: RecordJournal) -> None:
    journal.append(message(1))
    journal.append(replace(message(2), chosen_pass="4h", arrived_at=CLOSED.decided_at))
    [segment] = journal.seal()
    assert read_segment(segment) == [
        message(1),
        replace(message(2), chosen_pass="4h", arrived_at=CLOSED.decided_at),
    ]


def test_records_after_a_seal_go_to_a_new_segment(journal: RecordJournal) -> None:
    journal.append(message(1))
    first = journal.seal()
    assert journal.seal() == []  # nothing written since: no empty segment
    journal.append(message(2))
    second = journal.seal()
    assert [read_segment(path) for path in first + second] == [[message(1)], [message(2)]]


def test_a_torn_last_line_is_skipped(journal: RecordJournal) -> None:
    journal.append(message(1))
    journal.append(message(2))
    [segment] = journal.seal()
    # Killed in the middle of the second line (or the disk filled up).
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) - 20])
    assert read_segment(segment) == [message(1)]


def test_a_failed_append_leaves_its_segment_so_a_torn_line_ends_it(
    journal: RecordJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal.append(message(1))
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        return real_write(fd, data[:10])  # a short write: ENOSPC after 10 bytes

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError, match="short write"):
        journal.append(message(2))
    monkeypatch.undo()
    journal.append(message(3))
    first, second = journal.seal()
    assert read_segment(first) == [message(1)]
    assert read_segment(second) == [message(3)]


def test_a_folder_that_cannot_be_written_is_refused_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(JournalError, match=r"cannot write there.*journal_dir"):
        RecordJournal(blocker / "journal").open()


def test_one_process_per_folder(journal: RecordJournal) -> None:
    with pytest.raises(JournalError, match="another running process"):
        RecordJournal(journal.directory).open()
    journal.close()
    RecordJournal(journal.directory).open()


def test_each_database_has_its_journal_a_relative_one_next_to_a_sqlite_file(
    tmp_path: Path,
) -> None:
    sqlite = f"sqlite+aiosqlite:///{tmp_path}/callrouter.db"
    assert journal_directory("journal", sqlite) == tmp_path / "journal" / "callrouter.db"
    assert journal_directory("/var/x", sqlite) == Path("/var/x/callrouter.db")
    postgres = "postgresql+asyncpg://u@h/hotline"
    assert journal_directory("journal", postgres) == Path("journal/hotline")
    assert journal_directory("/var/x", postgres) == Path("/var/x/hotline")
    assert journal_directory("journal", "sqlite+aiosqlite://") == Path("journal/memory")


def test_a_journal_left_empty_is_removed_on_close(journal: RecordJournal) -> None:
    journal.append(message(1))
    journal.close()
    assert segments(journal.directory) == ["segment-0000000001.jsonl"]
    again = RecordJournal(journal.directory)
    [segment] = again.open()
    again.delete([segment])
    again.close()
    assert not journal.directory.exists()


async def test_a_message_waits_for_no_commit_and_its_segment_goes_once_committed(
    journal: RecordJournal,
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = CallRecordWriter(database_engine, journal=journal)
    assert writer.add_durable(message(1)) is None
    assert segments(journal.directory) == ["segment-0000000001.jsonl"]
    await writer.flush()
    assert [r.uniqueid for r in await stored(engine_sessions)] == ["1741000100.1"]
    assert segments(journal.directory) == []


async def test_a_record_given_during_a_write_stays_journaled_until_its_own_batch(
    journal: RecordJournal,
    database_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine, journal=journal)
    writer.add_durable(message(1))
    add_call_records = writer_module.add_call_records

    async def meanwhile(*args: Any) -> None:
        # A message decided while the first batch is being written.
        writer.add_durable(message(2))
        await add_call_records(*args)

    monkeypatch.setattr(writer_module, "add_call_records", meanwhile)
    await writer.flush()
    monkeypatch.undo()
    # The first batch's segment is gone; the second record's is still there.
    [left] = segments(journal.directory)
    assert read_segment(journal.directory / left) == [message(2)]
    await writer.flush()
    assert segments(journal.directory) == []


async def test_a_failed_write_keeps_the_segments_until_a_write_commits_them(
    journal: RecordJournal,
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine, journal=journal)
    writer.add_durable(message(1))
    database_away(monkeypatch)
    with pytest.raises(OSError):
        await writer.flush()
    monkeypatch.undo()
    assert len(segments(journal.directory)) == 1
    writer.add_durable(message(2))
    assert len(segments(journal.directory)) == 2
    await writer.flush()
    assert sorted(r.uniqueid for r in await stored(engine_sessions)) == [
        "1741000100.1",
        "1741000100.2",
    ]
    assert segments(journal.directory) == []


async def test_without_a_journal_the_caller_waits_for_the_commit(
    journal: RecordJournal,
    database_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = CallRecordWriter(database_engine, journal=journal)

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    committed = writer.add_durable(message(1))
    monkeypatch.undo()
    assert committed is not None and not committed.done()
    await writer.flush()
    assert committed.done()
    # Back to the journal once it can be written again.
    assert writer.add_durable(message(2)) is None


async def test_the_replay_writes_each_record_once_however_often_it_runs(
    tmp_path: Path,
    database_engine: AsyncEngine,
    engine_sessions: async_sessionmaker[AsyncSession],
) -> None:
    directory = tmp_path / "journal"
    journal = RecordJournal(directory)
    journal.open()
    writer = CallRecordWriter(database_engine, journal=journal)
    writer.add_durable(message(1))
    # The first batch commits, then the router dies before deleting its segment (sealed
    # here, out of the writer's hands)...
    journal.seal()
    await writer.flush()
    # ...and the second record never reaches the database.
    writer.add_durable(message(2))
    journal.close()
    kept = tmp_path / "kept"
    kept.mkdir()

    restarted = RecordJournal(directory)
    left = restarted.open()
    assert len(left) == 2
    for path in left:
        os.link(path, kept / path.name)
    assert await replay_journal(database_engine, restarted, left) == 1
    assert segments(directory) == []
    restarted.close()

    # A crash between the replay's commit and its deletion: replayed again, nothing doubled.
    directory.mkdir()
    for path in kept.iterdir():
        os.link(path, directory / path.name)
    again = RecordJournal(directory)
    assert await replay_journal(database_engine, again, again.open()) == 0
    assert sorted(r.uniqueid for r in await stored(engine_sessions)) == [
        "1741000100.1",
        "1741000100.2",
    ]
    # New segments are numbered after what was found, never over it.
    again.append(message(3))
    [segment] = again.seal()
    assert segment.name > max(path.name for path in left)
