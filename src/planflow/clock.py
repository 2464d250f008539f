"""The single source of "now" for planflow.

Everything that asks what time it is (services, the workflow engine's timers, the scheduler)
asks here, so that tests and `planflow tick --at` move time for all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

# Pinned for the whole process (tests, `planflow tick --at`).
_pinned: datetime | None = None
# A demo instance's moved clock: the wall clock plus this (read from the database by the
# scheduler and the web server, planflow.services.clockshift).
_offset = timedelta(0)
# Pinned for one block of one thread (firing timers "as of" a time), leaving other threads alone.
_pinned_here: ContextVar[datetime | None] = ContextVar("planflow_now", default=None)


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _pinned_here.get() or _pinned or datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    """Let the running clock run `offset` ahead of (or behind) the wall clock."""
    global _offset
    _offset = offset


def is_pinned() -> bool:
    return _pinned is not None or _pinned_here.get() is not None


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def set_now(moment: datetime | None) -> None:
    """Pin the clock for the process at `moment` (naive times are taken as UTC); None lets it run."""
    global _pinned
    _pinned = _utc(moment) if moment is not None else None


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Pin the clock for the duration of a block in this thread only, then restore it."""
    token = _pinned_here.set(_utc(moment))
    try:
        yield
    finally:
        _pinned_here.reset(token)
