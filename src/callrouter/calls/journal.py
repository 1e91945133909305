"""A local append-only journal of the message records not yet committed (issue 7, item 12).

A message (refusal, closed hours, insufficient balance) ends the call within seconds: a
router killed before its record is committed would find nothing left on the PBX to
recover it from. Committing it before the Redirect cost the caller a database round trip
and a share of the writer's queue (p99 17-154 ms at 100-400 calls/s). Instead the record
is appended here, one `os.write` of one JSON line on an O_APPEND descriptor, and handed to
the writer without waiting for its commit.

Durability is the class of PostgreSQL's `synchronous_commit off` the writer already uses:
no fsync, so a line survives `kill -9` of the router (it is in the kernel's page cache the
moment `os.write` returns) but not a power loss or a crash of its host.

The file is cut in segments. The writer seals the current segment in the same synchronous
step as it takes its batch (asyncio runs one thing at a time, so a sealed segment holds
records of that batch or of earlier ones), and deletes the sealed segments once a batch
commits; a failed write keeps them, its records going back to the writer. Whatever
segments a start-up finds were left by a router that died: `calls/replay.py` writes what
the database lacks of them, then they are deleted.

One process per folder: a lock file (`flock`, released by the kernel when the process dies)
keeps a second router from replaying, and deleting, the segments of one that is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from callrouter.calls.records import CallRecordData
from callrouter.errors import CallrouterError

log = structlog.get_logger(__name__)

_LOCK = "lock"
_PREFIX = "segment-"
_SUFFIX = ".jsonl"
_INSTANTS = ("arrived_at", "decided_at", "reconciled_at")
_FIELD_ORDER = tuple(field.name for field in fields(CallRecordData))
_FIELD_NAMES = frozenset(_FIELD_ORDER)


class JournalError(CallrouterError):
    """The journal's folder cannot be used (not writable, or used by another process)."""


def journal_directory(setting: str, database_url: str) -> Path:
    """Where the journal of `database_url` lives: in `setting` ([database] journal_dir), a
    folder named after the database (its file's name on SQLite), as its records are
    replayed into that database only. A relative `setting` is taken from the SQLite
    database file's folder (on PostgreSQL, from the working directory)."""
    path = Path(setting).expanduser()
    url = make_url(database_url)
    database = Path(url.database or "")
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return path / (url.database or "memory")
    if not path.is_absolute():
        path = database.parent / path
    return path / database.name


class RecordJournal:
    """Not thread-safe: used from the event loop only, like the writer that owns it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._next = 1
        #: Segments written since the last `seal` (the current one, and any abandoned).
        self._unsealed: list[Path] = []

    def open(self) -> list[Path]:
        """Takes the folder (created if need be) and returns the segments an earlier
        process left, oldest first, for replay. JournalError says why it cannot."""
        # Again when a process closing its journal removed the folder or the lock file
        # between our opening it and our locking it.
        for _ in range(3):
            lock_fd = self._lock()
            if lock_fd is not None:
                break
        else:
            raise JournalError(f"call-record journal {self.directory}: could not be locked")
        self._lock_fd = lock_fd
        left = sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"), key=_number)
        self._next = _number(left[-1]) + 1 if left else 1
        return left

    def _lock(self) -> int | None:
        lock = self.directory / _LOCK
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise JournalError(
                f"call-record journal {self.directory}: cannot write there ({error.strerror}); "
                "set [database] journal_dir to a folder the router may write in"
            ) from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock_fd)
            raise JournalError(
                f"call-record journal {self.directory}: used by another running process; "
                "give each router its own [database] journal_dir"
            ) from None
        try:
            if os.stat(lock).st_ino == os.fstat(lock_fd).st_ino:
                return lock_fd
        except FileNotFoundError:
            pass
        os.close(lock_fd)
        return None

    def append(self, record: CallRecordData) -> None:
        """One line, one `os.write`; OSError when it is not all written (disk full, EIO).
        After a failure the segment is left for a new one, so a torn line is always the
        last of its segment."""
        line = _encode(record)
        if self._fd is None:
            self._start_segment()
        assert self._fd is not None
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"short write to the journal ({written} of {len(line)} bytes)")
        except OSError:
            self._close_segment()
            raise

    def _start_segment(self) -> None:
        if self._lock_fd is None:
            raise RuntimeError("the journal is not open")
        path = self.directory / f"{_PREFIX}{self._next:010d}{_SUFFIX}"
        self._fd = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )
        self._next += 1
        self._unsealed.append(path)

    def _close_segment(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def seal(self) -> list[Path]:
        """The segments written so far; the next record starts a new one."""
        self._close_segment()
        sealed, self._unsealed = self._unsealed, []
        return sealed

    def delete(self, segments: Sequence[Path]) -> None:
        """Their records are committed. A segment that cannot be deleted is only replayed
        once more (idempotent), so this logs rather than fails."""
        for segment in segments:
            try:
                segment.unlink(missing_ok=True)
            except OSError as error:
                log.error("calls.journal_not_deleted", segment=str(segment), error=str(error))

    def close(self) -> None:
        """Closes the files; segments not yet deleted stay for the next start's replay.
        A journal left empty is removed (the lock file first, while it is still held)."""
        self._close_segment()
        self._unsealed = []
        lock_fd, self._lock_fd = self._lock_fd, None
        if lock_fd is None:
            return
        try:
            if not any(self.directory.glob(f"{_PREFIX}*{_SUFFIX}")):
                (self.directory / _LOCK).unlink(missing_ok=True)
                self.directory.rmdir()
        except OSError:
            pass  # not empty after all, or not ours to remove: harmless
        finally:
            os.close(lock_fd)


def read_segment(path: Path) -> list[CallRecordData]:
    """The records of a segment; a line that is not a whole record (the router died, or
    the disk filled, in the middle of writing it) is skipped with a warning."""
    records: list[CallRecordData] = []
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                records.append(_decode(line))
            except (ValueError, TypeError, KeyError) as error:
                log.warning(
                    "calls.journal_line_skipped",
                    segment=str(path),
                    line=number,
                    error=str(error),
                    torn=not line.endswith(b"\n"),
                )
    return records


def _encode(record: CallRecordData) -> bytes:
    # Not `to_dict`: its `asdict` deep-copies every value, 4/5 of an append's CPU.
    values = {name: getattr(record, name) for name in _FIELD_ORDER}
    for name in _INSTANTS:
        instant = values[name]
        if instant is not None:
            values[name] = instant.isoformat()
    return (json.dumps(values, separators=(",", ":")) + "\n").encode()


def _decode(line: bytes) -> CallRecordData:
    values = json.loads(line)
    if not isinstance(values, dict) or set(values) != _FIELD_NAMES:
        raise ValueError("not a call record")
    for name in _INSTANTS:
        text = values[name]
        if text is not None:
            instant = datetime.fromisoformat(text)
            if instant.tzinfo is None:
                raise ValueError(f"{name} has no time zone")
            values[name] = instant
    return CallRecordData(**values)


def _number(path: Path) -> int:
    with contextlib.suppress(ValueError):
        return int(path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX))
    return 0
