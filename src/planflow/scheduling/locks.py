"""Who may run a job now. PostgreSQL: one scheduler at a time per job, by an advisory lock named
after the job. SQLite: one scheduler per database at all, by an OS lock on a file beside it."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import text

from ..db import Database


def _key(job: str) -> int:
    return int.from_bytes(hashlib.sha256(f"planflow.job.{job}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def job_lock(database: Database, job: str) -> Iterator[bool]:
    """Yield whether this process may run `job` now. On PostgreSQL a session-level advisory lock is
    held on a connection of its own for the whole run (a job runs in several short transactions,
    which a transaction-level lock would not span); if the process dies, the server ends the
    session and the lock with it. On SQLite the scheduler lock (SqliteSchedulerLock) already makes
    this the only scheduler: always yes."""
    if database.url.get_backend_name() != "postgresql":
        yield True
        return
    connection = database.engine.connect()
    try:
        got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(job)}))
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(job)})
                connection.commit()
    except BaseException:
        connection.invalidate()  # never hand a connection that may hold the lock back to the pool
        raise
    finally:
        connection.close()


class SchedulerBusy(RuntimeError):
    """Another scheduler runs on this SQLite database."""


class SqliteSchedulerLock:
    """The one scheduler of an SQLite database: an exclusive, non-blocking flock on
    `<database>.scheduler.lock`, held for the life of the process (the OS drops it when the
    process ends, however it ends). The file says who holds it."""

    def __init__(self, database: Database) -> None:
        self.path = Path(f"{database.url.database}.scheduler.lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SchedulerBusy(
                f"another planflow scheduler ({holder}) already runs on the SQLite database "
                f"{self.path.name.removesuffix('.scheduler.lock')}: an SQLite installation runs one "
                "scheduler (the one in `planflow serve` or `planflow scheduler`); stop it first, or set "
                "PLANFLOW_SCHEDULER_ENABLED=false for this serve"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def hold_scheduler_lock(database: Database) -> SqliteSchedulerLock | None:
    """Take the SQLite scheduler lock (SchedulerBusy if another holds it); None on PostgreSQL."""
    if database.url.get_backend_name() != "sqlite":
        return None
    lock = SqliteSchedulerLock(database)
    lock.acquire()
    return lock
