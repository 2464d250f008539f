"""The scheduler's jobs: each a small function that calls services for what is due as of `now`,
and returns what it did as counts. run_job wraps one in its lock and records the run."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import clock
from ..audit_keys import SigningKey
from ..db import Database
from ..services import clockshift
from ..services.chain import cadence, deviations, idempotency, reminders, timers
from ..services.outputs import mailer, notices
from ..services.records import checkpoints, jobruns
from .locks import job_lock
from .settings import Schedule

log = logging.getLogger(__name__)
IDEMPOTENCY_DAYS = 7  # how long a completion's Idempotency-Key answers a retry


@dataclass
class Context:
    """What every job may need: the database, the schedule, mail settings, the signing key."""

    database: Database
    schedule: Schedule
    timezone: str
    smtp: mailer.SmtpSettings | None = None
    signer: SigningKey | None = None
    runner: str = f"{socket.gethostname()[:40]}:{os.getpid()}"

    def today(self, now: datetime) -> Any:
        return clock.local(now).date()


def open_cycles(ctx: Context, now: datetime) -> dict[str, Any]:
    """Open the period's cycle when its day has come (and finish openings that stopped)."""
    return cadence.open_due_cycles(ctx.database.transaction, ctx.schedule.cadence, ctx.today(now))


def fire_due_timers(ctx: Context, now: datetime) -> dict[str, Any]:
    """BPMN timers: e.g. a red deviation with no steering decision after its days escalates."""
    before = _escalated(ctx)
    fired = timers.fire_due_timers(ctx.database.transaction, now)
    return {"timers_fired": fired, "deviations_escalated": _escalated(ctx) - before}


def _escalated(ctx: Context) -> int:
    with ctx.database.reading() as session:
        return deviations.escalated_count(session)


def remind(ctx: Context, now: datetime) -> dict[str, Any]:
    """Reminders before deadlines and while overdue; overdue tasks escalated to lead, process leader."""
    database = ctx.database
    return dict(
        reminders.send_reminders(
            database.transaction, database.reading, ctx.schedule.reminders, ctx.today(now)
        )
    )


def start_annual_report(ctx: Context, now: datetime) -> dict[str, Any]:
    month, day = ctx.schedule.annual_report
    return cadence.start_due_annual_reports(ctx.database.transaction, month, day, ctx.today(now))


def digest(ctx: Context, now: datetime) -> dict[str, Any]:
    """Once a working day, from the digest time on: each person's waiting notices in one mail."""
    local = clock.local(now)
    if local.time() < ctx.schedule.digest_at:
        return {"digests": 0}
    return {"digests": notices.make_digests(ctx.database.transaction, local.date())}


def deliver_mail(ctx: Context, now: datetime) -> dict[str, Any]:
    database = ctx.database
    return mailer.deliver(database.transaction, database.reading, ctx.smtp, ctx.schedule.mail, ctx.runner)


def audit_checkpoint(ctx: Context, now: datetime) -> dict[str, Any]:
    """Sign the audit chain's head (nothing new is signed when the head has not moved)."""
    if ctx.signer is None:
        return {}
    try:
        with ctx.database.transaction() as session:
            seq = checkpoints.make_checkpoint(session, ctx.signer).seq
    except checkpoints.NothingToAnchor:
        return {"anchored_through": 0}
    return {"anchored_through": seq}


def forget(ctx: Context, now: datetime) -> dict[str, Any]:
    """Forget idempotency keys older than IDEMPOTENCY_DAYS: a retry comes minutes after a lost
    response, and the keys would otherwise grow with every completion made through the API."""
    before = now - timedelta(days=IDEMPOTENCY_DAYS)
    return {
        "idempotency_keys_forgotten": idempotency.forget_idempotency_keys(ctx.database.transaction, before)
    }


# In the order `tick` runs them: cycles open before reminders are counted, mail goes last.
JOBS: dict[str, Callable[[Context, datetime], dict[str, Any]]] = {
    "open_cycles": open_cycles,
    "fire_due_timers": fire_due_timers,
    "remind": remind,
    "start_annual_report": start_annual_report,
    "digest": digest,
    "deliver_mail": deliver_mail,
    "audit_checkpoint": audit_checkpoint,
    "forget": forget,
}
# Jobs that several schedulers may run at once: their items are claimed one by one (a lease).
PARALLEL = {"deliver_mail"}


@dataclass(frozen=True)
class Run:
    job: str
    outcome: str  # done | nothing | skipped | failed | busy (another scheduler runs it)
    summary: dict[str, Any]
    error: str | None = None


def run_job(ctx: Context, job: str, runner: str | None = None) -> Run:
    """Run one job as of planflow's clock, under its lock, and record what it did."""
    runner = runner or ctx.runner
    if not clock.is_pinned():
        with ctx.database.reading() as session:
            clockshift.follow(session)
    with job_lock(ctx.database, job) if job not in PARALLEL else _always() as allowed:
        if not allowed:
            return Run(job, "busy", {})
        started, as_of = datetime.now(UTC), clock.now()
        error = None
        try:
            summary = JOBS[job](ctx, as_of)
        except Exception as exc:  # one failing job must not stop the scheduler; the run says why
            log.exception("job %s failed", job)
            summary, error = {}, (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
        try:
            with ctx.database.transaction() as session:
                run = jobruns.record(session, job, runner, as_of, started, datetime.now(UTC), summary, error)
                outcome = run.outcome if run.repeats == 0 else jobruns.outcome_of(run.summary, error)
        except Exception:
            log.exception("the run of job %s could not be recorded", job)
            outcome = jobruns.outcome_of(summary, error)
    return Run(job, outcome, summary, error)


class _always:
    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: object) -> None:
        return None
