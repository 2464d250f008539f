"""The shared clock of a demo instance: `planflow tick --at` moves it, and a running `serve` and
`scheduler` follow (planflow.clock stays the one source of now; this keeps its offset in the
database, so every process reads the same one). Refused on an instance without demo data: there,
time is the wall clock's."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..models import SharedClock, User
from .errors import Conflict


def is_demo_instance(session: Session) -> bool:
    """Whether the instance holds demo data (`planflow init --demo`)."""
    return session.scalar(select(User.id).where(User.is_demo).limit(1)) is not None


def move(session: Session, to: datetime) -> timedelta:
    """Set the shared clock so that now is `to`, moving on from there; returns the offset."""
    if not is_demo_instance(session):
        raise Conflict("error.clock.not_demo")
    wall = datetime.now(UTC)
    offset = to - wall
    row = session.get(SharedClock, 1, with_for_update=True)
    if row is None:
        session.add(SharedClock(id=1, offset_seconds=round(offset.total_seconds()), set_at=wall))
    else:
        row.offset_seconds, row.set_at = round(offset.total_seconds()), wall
    return offset


def reset(session: Session) -> None:
    """Back to the wall clock."""
    row = session.get(SharedClock, 1)
    if row is not None:
        session.delete(row)


def follow(session: Session) -> timedelta:
    """Read the shared clock's offset and let this process's clock follow it."""
    seconds = session.scalar(select(SharedClock.offset_seconds).where(SharedClock.id == 1))
    offset = timedelta(seconds=seconds or 0)
    clock.set_offset(offset)
    return offset


@dataclass
class Follower:
    """One process's way of keeping up with the shared clock (the web server's, the scheduler's).
    Whether the instance is a demo is read once: on one without demo data the wall clock is the
    clock and the database is never asked again; on a demo the offset is read again at most every
    `every` seconds (a page may lag a tick by that much)."""

    every: float = 0.0
    demo: bool | None = None
    last_read: float = float("-inf")

    def keep_up(self, reading: Callable[[], AbstractContextManager[Session]]) -> None:
        if self.demo is False or clock.is_pinned():
            return
        if time.monotonic() - self.last_read < self.every:
            return
        self.last_read = time.monotonic()
        with reading() as session:
            if self.demo is None:
                self.demo = is_demo_instance(session)
            if self.demo:
                follow(session)
