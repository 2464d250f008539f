"""The shared clock of a demo instance: `planflow tick --at` moves it, and a running `serve` and
`scheduler` follow (planflow.clock stays the one source of now; this keeps its offset in the
database, so every process reads the same one). Refused on an instance without demo data: there,
time is the wall clock's."""

from __future__ import annotations

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
