"""The schedule file, refused in one line naming the key when wrong; the jobs, recorded per run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from planflow import clock
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.scheduling import Context, ScheduleError, configure, load_schedule, run_job
from planflow.services import workdays
from planflow.services.plan import plans
from planflow.services.records import checkpoints, jobruns
from planflow.services.records.audit import OPERATOR_ACTOR

from .services.chain import Chain

SHIPPED = Path(__file__).resolve().parents[1] / "scheduler" / "schedule.toml"


def _context(db: Database, signer: SigningKey | None = None) -> Context:
    return Context(db, load_schedule(), "Europe/Stockholm", None, signer)


def test_shipped_schedule_is_quarterly_with_reminders_7_and_1_working_days_before(db: Database) -> None:
    schedule = load_schedule()
    assert schedule.cadence.period == "quarter"
    assert schedule.cadence.escalation_days is None  # the installation's ESCALATION_DAYS apply
    assert schedule.reminders.before_deadline == (1, 7)
    assert schedule.annual_report == (12, 1)
    assert schedule.cadence.deadline("2026-Q4") == date(2026, 12, 23)  # 25th: Christmas Day
    assert schedule.cadence.opens_on("2026-Q1") == date(2026, 3, 1)
    ctx = _context(db, SigningKey(Ed25519PrivateKey.generate()))
    scheduler = configure(BackgroundScheduler(timezone="Europe/Stockholm"), ctx)
    assert [job.id for job in scheduler.get_jobs()] == list(schedule.jobs)
    assert scheduler.get_job("audit_checkpoint").args == (ctx, "audit_checkpoint")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('period = "quarter"', 'period = "fortnight"'), "cadence.period: must be one of"),
        (("open_day = 1", "open_day = 1\nopen_hour = 8"), "cadence.open_hour: unknown key"),
        (("deadline_day = 25", "deadline_day = 31"), "cadence.deadline_day: 2027-Q2 has no day 31"),
        (("month = 12\nday = 1", "month = 2\nday = 29"), "annual_report.day: 02-29 is not in every year"),
        (('time = "07:30"', 'time = "25:00"'), "digest.time: '25:00' is not a time of day"),
        (("before_deadline = [7, 1]", 'before_deadline = [7, "x"]'), "reminders.before_deadline"),
        (("[mail]", "[mial]\n[mail]"), "mial: unknown section"),
        (("[digest]", "[digest"), "not valid TOML"),
        (('service = "remind"', 'service = "remindme"'), "jobs.remind.service: names no known service"),
    ],
)
def test_a_wrong_schedule_is_refused_in_one_line_naming_the_key(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "schedule.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ScheduleError) as refused:
        load_schedule(str(path))
    message = str(refused.value)
    assert named in message and "\n" not in message and message.startswith("schedule.toml: ")


def test_working_days_skip_weekends_holidays_and_the_eves() -> None:
    assert workdays.on_or_before(date(2026, 12, 25)) == date(2026, 12, 23)
    assert workdays.on_or_before(date(2026, 6, 19)) == date(2026, 6, 18)  # midsummer eve
    assert workdays.on_or_before(date(2027, 1, 1)) == date(2026, 12, 30)  # New Year's eve, day
    assert workdays.is_working_day(date(2026, 11, 29)) is False  # a Sunday
    assert workdays.is_working_day(date(2026, 11, 30)) is True  # a Monday, not a holiday
    assert workdays.before(date(2026, 12, 23), 7) == date(2026, 12, 14)
    assert workdays.after(date(2026, 12, 23), 1) == date(2026, 12, 28)


def test_timer_job_escalates_a_red_deviation_once_and_records_its_runs(seeded: Database) -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    clock.set_now(start)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    clock.set_now(start + timedelta(days=15))
    ctx = _context(seeded)
    first = run_job(ctx, "fire_due_timers")
    assert (first.outcome, first.summary["deviations_escalated"]) == ("done", 1)
    assert run_job(ctx, "fire_due_timers").summary == {"timers_fired": 0, "deviations_escalated": 0}
    assert run_job(ctx, "fire_due_timers").outcome == "nothing"
    with seeded.reading() as session:
        runs = [(r.outcome, r.repeats) for r in jobruns.recent(session, job="fire_due_timers")]
    assert runs == [("nothing", 1), ("done", 0)]


def test_checkpoint_job_anchors_the_chain_once_per_head(db: Database) -> None:
    signer = SigningKey(Ed25519PrivateKey.generate())
    ctx = _context(db, signer)
    assert run_job(ctx, "audit_checkpoint").summary == {"anchored_through": 0}
    with db.transaction() as session:  # event 1
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
    assert run_job(ctx, "audit_checkpoint").summary == {"anchored_through": 1}
    assert run_job(ctx, "audit_checkpoint").summary == {"anchored_through": 1}
    with db.reading() as session:
        assert [c["seq"] for c in checkpoints.list_checkpoints(session)] == [1]


def test_forget_job_drops_idempotency_keys_after_a_week_in_batches(seeded: Database) -> None:
    from planflow.models import IdempotencyKey
    from planflow.services.authority import people
    from planflow.services.chain import idempotency

    clock.set_now(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle()
    done = []
    for n, day in enumerate((1, 2, 9)):  # two keys older than a week on the 10th, one not
        clock.set_now(datetime(2026, 11, day, 9, 0, tzinfo=UTC))
        task = [t for t in chain.inbox("anna.nilsson") if t.name == "report_status"][n]
        with seeded.transaction() as session:
            user = people.get_user(session, "anna.nilsson")
            done.append(idempotency.complete_once(session, user, task.id, {"status": "green"}, f"key-{n}"))
    clock.set_now(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    assert run_job(_context(seeded), "forget").summary == {"idempotency_keys_forgotten": 2}
    assert run_job(_context(seeded), "forget").outcome == "nothing"
    with seeded.reading() as session:
        assert session.scalars(select(IdempotencyKey.key)).all() == ["key-2"]
    assert (
        idempotency.forget_idempotency_keys(seeded.transaction, datetime(2026, 12, 1, tzinfo=UTC), batch=1)
        == 1
    )
