"""APScheduler wiring: reads the schedule and runs each job (scheduling.jobs) on its trigger.

One `planflow scheduler` process in production; a background thread only in the embedded
`planflow serve` mode. Every job is safe to run twice and from several processes at once: on
PostgreSQL a job runs in one scheduler at a time (an advisory lock per job) and mail is claimed
notice by notice under a lease; an SQLite database has one scheduler, and a second is refused.
APScheduler's own job stores are not shared: its FAQ says sharing one does not prevent
duplicate runs; exactly-once is the database's job here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ..audit_keys import SigningKey
from ..db import Database
from ..services.outputs.mailer import SmtpSettings
from .jobs import JOBS, Context, Run, run_job
from .locks import SchedulerBusy, hold_scheduler_lock
from .settings import Schedule, ScheduleError, load

log = logging.getLogger(__name__)

__all__ = [
    "JOBS",
    "Context",
    "Run",
    "Schedule",
    "ScheduleError",
    "SchedulerBusy",
    "configure",
    "context",
    "load_schedule",
    "run_forever",
    "run_job",
    "start_embedded",
    "tick",
]


def load_schedule(configured: str | None = None) -> Schedule:
    """The schedule (PLANFLOW_SCHEDULE or scheduler/schedule.toml), checked: ScheduleError if not."""
    return load(configured, set(JOBS))


def context(database: Database, config: Mapping[str, Any], signer: SigningKey | None) -> Context:
    """What the jobs need, from the app's configuration."""
    return Context(
        database=database,
        schedule=load_schedule(config.get("SCHEDULE")),
        timezone=config["TIMEZONE"],
        smtp=SmtpSettings.from_config(dict(config)),
        signer=signer,
    )


def configure(scheduler: BaseScheduler, ctx: Context) -> BaseScheduler:
    """Add the schedule's jobs, each run through run_job; a job marked `at_start` runs once as
    soon as the scheduler starts, then on its trigger."""
    for name, job in ctx.schedule.jobs.items():
        options = {k: v for k, v in job.items() if k not in ("service", "trigger", "at_start")}
        if job.get("at_start"):
            options["next_run_time"] = datetime.now(ZoneInfo(ctx.timezone))
        scheduler.add_job(
            run_job,
            job["trigger"],
            args=[ctx, job["service"]],
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **options,
        )
    return scheduler


def tick(ctx: Context) -> list[Run]:
    """Run every job once, in order, as of planflow's clock (`planflow tick --at`)."""
    return [run_job(ctx, job, runner="tick") for job in JOBS]


def start_embedded(ctx: Context) -> BackgroundScheduler:
    """A scheduler thread beside the web server (the embedded `serve` mode); SchedulerBusy when
    another scheduler runs on the same SQLite database."""
    hold_scheduler_lock(ctx.database)
    scheduler = configure(BackgroundScheduler(timezone=ctx.timezone), ctx)
    scheduler.start()
    return scheduler  # type: ignore[return-value]


def run_forever(ctx: Context) -> None:
    """The `planflow scheduler` process; SchedulerBusy when another runs on the same SQLite database."""
    lock = hold_scheduler_lock(ctx.database)
    try:
        configure(BlockingScheduler(timezone=ctx.timezone), ctx).start()
    finally:
        if lock is not None:
            lock.release()
