"""The single source of "now" for planflow.

Everything that asks what time it is (services, the workflow engine's timers, the scheduler)
asks here, so that tests and `planflow tick --at` move time for all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_fixed: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Pin the clock to `moment` (naive times are taken as UTC); None lets it run again."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _fixed = moment.astimezone(UTC) if moment is not None else None


def advance(by: timedelta) -> datetime:
    """Move a pinned clock forward (pinning it at the current time first)."""
    set_now(now() + by)
    return now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Pin the clock for the duration of a block, then restore what was before."""
    before = _fixed
    set_now(moment)
    try:
        yield
    finally:
        set_now(before)
