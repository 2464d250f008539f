"""The scheduler's own records: what each job run did, how far date-driven jobs have got, and the
shared clock a demo instance can move."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class JobRun(Base):
    """One run of a scheduler job (or of `planflow tick`) and what it did. A run that did the same
    nothing as the job's previous record is counted there (`repeats`), not added."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job", "job", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    runner: Mapped[str] = mapped_column(String(64))  # host:pid, or "tick"
    as_of: Mapped[datetime]  # planflow's clock when it ran
    started_at: Mapped[datetime]  # the wall clock
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # done | nothing | skipped | failed
    # Counts of what it did ({"cycles_opened": 1}) and why it skipped, as catalog messages.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(default=0, server_default="0")


class JobMark(Base):
    """How far a date-driven job has got ("reminders" through 2026-12-16): the next run looks only
    at the days after it, so a day's reminders are read once, by index, whatever the table holds."""

    __tablename__ = "job_mark"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    through: Mapped[date]


class SharedClock(Base):
    """A demo instance's moved clock: planflow's now = the wall clock + offset, for every process
    (serve, scheduler) that reads it. One row, id 1; none means no offset."""

    __tablename__ = "shared_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[int]
    set_at: Mapped[datetime]
