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
from ..audit_keys import SigningKey
from ..db import Database
from ..services import checkpoints, cycles, timers

log = logging.getLogger(__name__)


def _fire_due_timers(database: Database) -> int:
    fired = timers.fire_due_timers(database.transaction, clock.now())
    if fired:
        log.info("fired %d timer(s)", fired)
    return fired


def _audit_checkpoint(database: Database, signer: SigningKey) -> int | None:
    """Sign the audit chain's head: the seq anchored, or None while the chain is empty. A chain
    that does not extend the last checkpoint raises, and APScheduler logs it as an error."""
    try:
        with database.transaction() as session:
            seq = checkpoints.make_checkpoint(session, signer).seq
    except checkpoints.NothingToAnchor:
        return None
    log.info("audit chain anchored up to event %d", seq)
    return seq


def _open_cycles(database: Database) -> int:
    """Finish opening any cycle whose opening stopped half-way (a crash, a restart)."""
    with database.reading() as session:
        unfinished = cycles.opening(session)
    started = sum(cycles.open_all(database.transaction, cycle_id) for cycle_id in unfinished)
    if started:
        log.info("started %d status report(s) of %d opening cycle(s)", started, len(unfinished))
    return started


# Each job gets the Database; the jobs in SIGNING_JOBS also get the checkpoint signing key, which
# lives outside the database and is loaded by whoever starts the scheduler.
JOBS: dict[str, Callable[..., Any]] = {
    "fire_due_timers": _fire_due_timers,
    "open_cycles": _open_cycles,
    "audit_checkpoint": _audit_checkpoint,
}
SIGNING_JOBS = {"audit_checkpoint"}


def load_schedule() -> dict[str, dict[str, Any]]:
    """The jobs of scheduler/schedule.toml, checked against the services planflow has."""
    with open(resources.folder("scheduler") / "schedule.toml", "rb") as handle:
        jobs: dict[str, dict[str, Any]] = tomllib.load(handle).get("jobs", {})
    for name, job in jobs.items():
        if job.get("service") not in JOBS:
            raise ValueError(f"schedule.toml: job {name} names no known service ({', '.join(JOBS)})")
    return jobs


def configure(scheduler: BaseScheduler, database: Database, signer: SigningKey) -> BaseScheduler:
    """Add the schedule's jobs, each running on `database` (and signing with `signer`)."""
    for name, job in load_schedule().items():
        options = {k: v for k, v in job.items() if k not in ("service", "trigger")}
        scheduler.add_job(
            JOBS[job["service"]],
            job["trigger"],
            args=[database, signer] if job["service"] in SIGNING_JOBS else [database],
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **options,
        )
    return scheduler


def start_embedded(database: Database, timezone: str, signer: SigningKey) -> BackgroundScheduler:
    """A scheduler thread beside the web server (the embedded `serve` mode)."""
    scheduler = configure(BackgroundScheduler(timezone=timezone), database, signer)
    scheduler.start()
    return scheduler  # type: ignore[return-value]


def run_forever(database: Database, timezone: str, signer: SigningKey) -> None:
    """The `planflow scheduler` process."""
    configure(BlockingScheduler(timezone=timezone), database, signer).start()
