"""APScheduler wiring: reads scheduler/schedule.toml and runs each job as one transaction.

One `planflow scheduler` process in production; a background thread only in the embedded
`planflow serve` mode. Every job is safe to run twice and from two processes at once.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .. import clock, resources
from ..db import Database
from ..services import timers

log = logging.getLogger(__name__)


def _fire_due_timers(database: Database) -> int:
    with database.transaction() as session:
        fired = timers.fire_due_timers(session, clock.now())
    if fired:
        log.info("fired %d timer(s)", fired)
    return fired


JOBS: dict[str, Callable[[Database], Any]] = {"fire_due_timers": _fire_due_timers}


def load_schedule() -> dict[str, dict[str, Any]]:
    """The jobs of scheduler/schedule.toml, checked against the services planflow has."""
    with open(resources.folder("scheduler") / "schedule.toml", "rb") as handle:
        jobs: dict[str, dict[str, Any]] = tomllib.load(handle).get("jobs", {})
    for name, job in jobs.items():
        if job.get("service") not in JOBS:
            raise ValueError(f"schedule.toml: job {name} names no known service ({', '.join(JOBS)})")
    return jobs


def configure(scheduler: BaseScheduler, database: Database) -> BaseScheduler:
    """Add the schedule's jobs, each running on `database`."""
    for name, job in load_schedule().items():
        options = {k: v for k, v in job.items() if k not in ("service", "trigger")}
        scheduler.add_job(
            JOBS[job["service"]],
            job["trigger"],
            args=[database],
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **options,
        )
    return scheduler


def start_embedded(database: Database, timezone: str) -> BackgroundScheduler:
    """A scheduler thread beside the web server (the embedded `serve` mode)."""
    scheduler = configure(BackgroundScheduler(timezone=timezone), database)
    scheduler.start()
    return scheduler  # type: ignore[return-value]


def run_forever(database: Database, timezone: str) -> None:
    """The `planflow scheduler` process."""
    configure(BlockingScheduler(timezone=timezone), database).start()
