"""The record of the scheduler's job runs: what each did, for the admin to read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import JobRun
from .audit import _plain


def outcome_of(summary: dict[str, Any], error: str | None) -> str:
    if error is not None:
        return "failed"
    if any(
        isinstance(v, int) and not isinstance(v, bool) and v > 0
        for k, v in summary.items()
        if k != "mails_waiting"
    ):
        return "done"
    return "skipped" if summary.get("skipped") else "nothing"


def record(
    session: Session,
    job: str,
    runner: str,
    as_of: datetime,
    started_at: datetime,
    finished_at: datetime,
    summary: dict[str, Any],
    error: str | None = None,
) -> JobRun:
    """Keep a run. One that did nothing, or skipped for the same reasons, as the job's last record
    is counted on that record (repeats) instead: a job polled every minute leaves a line per change."""
    summary = _plain(summary)
    outcome = outcome_of(summary, error)
    last = session.scalar(select(JobRun).where(JobRun.job == job).order_by(JobRun.id.desc()).limit(1))
    if (
        last is not None
        and outcome in ("nothing", "skipped")
        and last.outcome == outcome
        and last.summary == summary
        and last.runner == runner
    ):
        last.repeats += 1
        last.as_of, last.finished_at = as_of, finished_at
        return last
    run = JobRun(
        job=job,
        runner=runner,
        as_of=as_of,
        started_at=started_at,
        finished_at=finished_at,
        outcome=outcome,
        summary=summary,
        error=error,
    )
    session.add(run)
    return run


@dataclass(frozen=True)
class RecordedRun:
    """A job run as the admin reads it (`planflow scheduler runs`)."""

    job: str
    runner: str  # host:pid, or "tick"
    as_of: datetime  # planflow's clock when it ran
    finished_at: datetime  # the wall clock
    outcome: str  # done | nothing | skipped | failed
    summary: dict[str, Any]
    error: str | None
    repeats: int  # later runs alike, counted on this record


def recent(session: Session, limit: int = 50, job: str | None = None) -> list[RecordedRun]:
    """The latest runs, newest first."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return [
        RecordedRun(r.job, r.runner, r.as_of, r.finished_at, r.outcome, r.summary, r.error, r.repeats)
        for r in session.scalars(query)
    ]
