"""The scheduler's front ends: one scheduler per SQLite database, the shared clock only on a demo,
the calendar feed, and the admin's view of job runs and the outbox."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Notice, SharedClock
from planflow.scheduling.locks import hold_scheduler_lock

from .conftest import Cli
from .services.chain import Chain


def test_a_second_scheduler_on_an_sqlite_database_is_refused(cli: Cli, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL runs several schedulers (test_scheduler_processes)")
    assert cli("init").exit_code == 0
    from planflow.db import Database as Db

    database = Db(database_url)
    lock = hold_scheduler_lock(database)
    try:
        planflow = str(Path(sys.executable).parent / "planflow")
        second = subprocess.run(
            [planflow, "scheduler"], env={**cli.env, "PATH": ""}, capture_output=True, text=True, timeout=60
        )
    finally:
        assert lock is not None
        lock.release()
        database.dispose()
    assert second.returncode != 0
    assert "another planflow scheduler (pid " in second.stderr and "runs one" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_tick_moves_the_shared_clock_only_on_a_demo_instance(cli: Cli, db: Database) -> None:
    assert cli("init").exit_code == 0
    plain = cli("tick", "--at", "2026-12-14T08:00")
    assert plain.exit_code == 0 and "den gemensamma klockan står kvar" in plain.output
    assert "påbörjade årsrapporter: 1" in plain.output and "öppnade rapporteringscykler: 1" in plain.output
    with db.reading() as session:
        assert session.get(SharedClock, 1) is None
    assert cli("init", "--demo").exit_code == 0
    moved = cli("--language", "en", "tick", "--at", "2026-12-14T08:00")
    assert moved.exit_code == 0 and "the shared clock moved" in moved.output
    assert "0 annual report(s) started" in moved.output and "0 cycle(s) opened" in moved.output
    runs = cli("scheduler", "runs")
    assert (
        runs.exit_code == 0 and "start_annual_report" in runs.output and "per 2026-12-14 08:00" in runs.output
    )
    assert "as of 2026-12-14 08:00" in cli("--language", "en", "scheduler", "runs").output
    outbox = cli("scheduler", "outbox")
    assert outbox.exit_code == 0 and "(PLANFLOW_SMTP_HOST är inte satt)" in outbox.output
    outbox = cli("--language", "en", "scheduler", "outbox")
    assert outbox.output.startswith("0 mail(s) waiting (no PLANFLOW_SMTP_HOST set)")


def test_calendar_feed_lists_the_users_deadlines_and_rotates(seeded: Database, app: Flask, cli: Cli) -> None:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    Chain(seeded).start_cycle()  # due 2026-12-15
    address = cli("users", "calendar", "anna.nilsson")
    assert address.exit_code == 0, address.output
    path = "/calendar/" + address.output.strip().rsplit("/calendar/", 1)[1]
    client = app.test_client()
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and "DTSTART;VALUE=DATE:20261215" in body
    assert "SUMMARY:Rapportera status 1.1.1" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert client.get("/calendar/not-a-secret-at-all-really.ics").status_code == 404
    assert cli("users", "calendar", "anna.nilsson").exit_code == 0
    assert client.get(path).status_code == 404  # the old address stops working


def test_a_person_who_wants_no_mail_gets_notices_in_the_inbox_only(seeded: Database, cli: Cli) -> None:
    assert cli("users", "mail", "ordforande", "--delivery", "off").exit_code == 0
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    ticked = cli("tick", "--at", "2026-11-17T09:00")
    assert "eskalerade röda avvikelser: 1" in ticked.output
    with seeded.reading() as session:
        channels = dict(
            session.execute(
                select(Notice.dedupe_key, Notice.channel).where(Notice.template == "notice.escalation")
            ).all()
        )
    assert sorted(channels.values()) == ["inapp", "mail"]  # the chair: inbox only; process leader: mail


def test_the_outbox_lists_the_mail_that_waits_in_the_runs_language(seeded: Database, cli: Cli) -> None:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    assert cli("tick", "--at", "2026-11-17T09:00").exit_code == 0  # no SMTP host: the mail waits
    with seeded.reading() as session:
        waiting = session.execute(
            select(Notice.id, Notice.template).where(
                Notice.sent_at.is_(None), Notice.next_attempt_at.is_not(None)
            )
        ).all()
    assert waiting
    swedish = cli("scheduler", "outbox", "--limit", "1000").output.splitlines()
    assert swedish[0] == f"väntande e-postmeddelanden: {len(waiting)} (PLANFLOW_SMTP_HOST är inte satt)"
    assert len(swedish) == len(waiting) + 1
    escalation = next(notice_id for notice_id, template in waiting if template == "notice.escalation")
    row = next(line for line in swedish if line.startswith(f"  #{escalation} notice.escalation till "))
    assert "nästa försök 2026-11-17 " in row and "försök hittills: 0" in row
    english = cli("--language", "en", "scheduler", "outbox", "--limit", "1").output.splitlines()
    assert english[0] == f"{len(waiting)} mail(s) waiting (no PLANFLOW_SMTP_HOST set)" and len(english) == 2
    assert " to " in english[1] and ", next try " in english[1]
