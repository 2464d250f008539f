"""Benchmark of the scheduler with 100,000 open tasks: a tick with nothing due, queuing 10,000
reminders, delivering 1,000 mails to an SMTP server on loopback. Writes its own section of
benchmarks/RESULTS.md (between `<!-- begin scheduler -->` and `<!-- end scheduler -->`).

    .venv/bin/python benchmarks/scheduler.py [--tasks 100000] [--database-url URL] [--output PATH]

SQLite in a temporary folder by default; --database-url postgresql+psycopg://… for PostgreSQL
(the schema is made in a fresh schema and dropped afterwards). Timings are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, select, text, update

from planflow import clock, migrate
from planflow.db import Database
from planflow.models import JobMark, Notice, OpenTask, ProcessInstance, User
from planflow.scheduling import Context, load_schedule, run_job, tick
from planflow.services.plan import demo, plans
from planflow.services.outputs import mailer
from planflow.services.records.audit import OPERATOR_ACTOR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mailserver import MailServer  # noqa: E402

QUIET_DAYS = [date(2027, 1, 11) + timedelta(days=n) for n in range(20)]  # nothing falls due on them
REMINDED = date(2027, 3, 15)  # 10,000 tasks due then: their 1-day reminder falls on 2027-03-12


def _setup(url: str, tasks: int) -> tuple[Database, int]:
    database = Database(url)
    migrate.upgrade(database.engine)
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    with database.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(session)
        session.execute(update(User).values(mail_delivery="immediate"))
    # One real process instance for the bulk rows to belong to (its own tasks are removed).
    from planflow.services.chain import cycles
    from planflow.services.authority import people
    from planflow.services.records.audit import Actor

    with database.transaction() as session:
        cycle = cycles.start_cycle(
            session, Actor(people.get_user(session, "processledare")), "2026-Q4", date(2026, 12, 15)
        )
    cycles.open_all(database.transaction, cycle.id)
    with database.transaction() as session:
        instance_id = session.scalar(select(func.min(ProcessInstance.id)))
        activities = session.execute(text("SELECT id, owner_id FROM activity ORDER BY id")).all()
        session.execute(text("DELETE FROM open_task"))
    assert instance_id is not None
    # 100,000 open report tasks, spread over the spring of 2027, 10,000 of them due on REMINDED:
    # inserted in bulk with SQL, not through the engine.
    spring = [date(2027, 3, 22) + timedelta(days=n) for n in range(90)]
    rows = []
    created = datetime(2027, 1, 1, tzinfo=UTC).replace(tzinfo=None).isoformat(sep=" ")
    for n in range(tasks):
        activity_id, _owner = activities[n % len(activities)]
        due = REMINDED if n < 10_000 else spring[n % len(spring)]
        rows.append(
            {
                "id": f"bench-{n:08d}",
                "instance_id": instance_id,
                "process_id": "activity_report",
                "name": "report_status",
                "lane": "activity_owner",
                "cycle_id": cycle.id,
                "activity_id": activity_id,
                "claimed": False,
                "due_on": due,
                "created_at": created,
            }
        )
    with database.engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(
                text(
                    "INSERT INTO open_task (id, instance_id, process_id, name, lane, cycle_id, activity_id,"
                    " claimed, due_on, created_at) VALUES (:id, :instance_id, :process_id, :name, :lane,"
                    " :cycle_id, :activity_id, :claimed, :due_on, :created_at)"
                ),
                rows[start : start + 10_000],
            )
        if database.url.get_backend_name() == "postgresql":
            connection.execute(text("ANALYZE"))
    return database, instance_id


def _ms(ns: int) -> float:
    return ns / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    schema = None
    url = args.database_url or f"sqlite:///{Path(folder.name) / 'bench.sqlite3'}"
    if args.database_url:
        schema = f"pf_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.database_url)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    started = time.perf_counter()
    server = MailServer().start()
    try:
        database, _ = _setup(url, args.tasks)
        ctx = Context(
            database,
            load_schedule(),
            "Europe/Stockholm",
            mailer.SmtpSettings(host="127.0.0.1", port=server.port, sender="planflow@example.org"),
        )
        with database.reading() as session:
            open_tasks = session.scalar(select(func.count()).select_from(OpenTask))

        # (1) A tick with nothing due, each on a new day (so the reminder job reads its windows).
        with database.transaction() as session:
            session.merge(JobMark(job="reminders", through=QUIET_DAYS[0] - timedelta(days=1)))
        quiet = []
        per_job: dict[str, list[int]] = {}
        for day in QUIET_DAYS:
            clock.set_now(datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
            begin = time.perf_counter_ns()
            runs = tick(ctx)
            quiet.append(time.perf_counter_ns() - begin)
            assert all(r.outcome in ("nothing", "done") for r in runs), runs
            assert all(not r.summary.get("reminders") for r in runs)
        for job in ("remind", "deliver_mail", "open_cycles"):
            for day in QUIET_DAYS[:10]:
                with database.transaction() as session:
                    session.merge(JobMark(job="reminders", through=day - timedelta(days=1)))
                clock.set_now(datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
                begin = time.perf_counter_ns()
                run_job(ctx, job)
                per_job.setdefault(job, []).append(time.perf_counter_ns() - begin)

        # (2) 10,000 reminders: the day before REMINDED's deadline.
        reminder_day = date(2027, 3, 12)
        with database.transaction() as session:
            session.merge(JobMark(job="reminders", through=reminder_day - timedelta(days=1)))
        clock.set_now(datetime(2027, 3, 12, 6, tzinfo=UTC))
        begin = time.perf_counter_ns()
        queued = run_job(ctx, "remind").summary["reminders"]
        queue_ns = time.perf_counter_ns() - begin

        # (3) 1,000 of them mailed; the rest wait.
        with database.transaction() as session:
            last_kept = session.scalars(select(Notice.id).order_by(Notice.id).offset(999).limit(1)).one()
            session.execute(update(Notice).where(Notice.id > last_kept).values(next_attempt_at=None))
        begin = time.perf_counter_ns()
        sent = 0
        while True:
            summary = run_job(ctx, "deliver_mail").summary
            sent += summary["mails_sent"]
            if not summary["mails_sent"]:
                break
        deliver_ns = time.perf_counter_ns() - begin
        received = len(server.inbox.messages)
        database.dispose()
    finally:
        server.stop()
        clock.set_now(None)
        if schema:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        folder.cleanup()
    backend = "PostgreSQL" if args.database_url else "SQLite (WAL, file in a temporary folder)"
    median = statistics.median(quiet)
    lines = [
        "<!-- begin scheduler -->",
        "## Scheduler (benchmarks/scheduler.py)",
        "",
        f"{open_tasks:,} open tasks inserted in bulk with SQL; {backend}; Python {platform.python_version()};"
        f" {os.cpu_count()} cores; run {time.perf_counter() - started:.0f} s.",
        "",
        "| what | measured | target |",
        "| --- | --- | --- |",
        f"| a tick with nothing due (all {len(runs)} jobs, each recorded), median of {len(quiet)} days |"
        f" {_ms(median):.1f} ms (max {_ms(max(quiet)):.1f} ms) | ≤ 50 ms |",
        *(
            f"| — job `{job}` alone, median of {len(times)} | {_ms(statistics.median(times)):.1f} ms | |"
            for job, times in per_job.items()
        ),
        f"| queuing {queued:,} reminders (job `remind`, one run) | {queue_ns / 1e9:.2f} s | ≤ 10 s |",
        f"| delivering {sent:,} mails to aiosmtpd on loopback (batches of {ctx.schedule.mail.batch},"
        f" one connection per batch) | {deliver_ns / 1e9:.2f} s, {sent / (deliver_ns / 1e9):.0f} mails/s;"
        f" server received {received:,} | |",
        "",
        "A tick reads only what is due: the reminder job looks at the days since its last run and, in one"
        " indexed read over `open_task.due_on`, which of those days' deadline windows hold any task; mail"
        " delivery first asks the outbox index whether anything is due before it opens a write transaction.",
        "<!-- end scheduler -->",
    ]
    section = "\n".join(lines)
    old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    pattern = re.compile(r"<!-- begin scheduler -->.*?<!-- end scheduler -->", re.S)
    new = (
        pattern.sub(lambda _m: section, old)
        if pattern.search(old)
        else old.rstrip() + "\n\n" + section + "\n"
    )
    args.output.write_text(new, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
