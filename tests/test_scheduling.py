"""The schedule file and the job that fires due timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from planflow import clock
from planflow.db import Database
from planflow.scheduling import JOBS, configure, load_schedule

from .services.chain import Chain


def test_schedule_names_only_known_services_and_configures_jobs(db: Database) -> None:
    jobs = load_schedule()
    assert jobs["fire_due_timers"]["service"] == "fire_due_timers"
    scheduler = configure(BackgroundScheduler(timezone="Europe/Stockholm"), db)
    assert [job.id for job in scheduler.get_jobs()] == list(jobs)


def test_timer_job_escalates_a_red_deviation_once(seeded: Database) -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    clock.set_now(start)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    clock.set_now(start + timedelta(days=15))
    assert JOBS["fire_due_timers"](seeded) == 1
    assert JOBS["fire_due_timers"](seeded) == 0
