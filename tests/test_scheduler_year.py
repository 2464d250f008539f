"""A year on the seed plan, walked day by day with `planflow tick --at`: four cycles open on their
days, reminders fall on working days (holidays respected), a red deviation and an overdue report
are escalated, the December report starts, and mail reaches a real SMTP server exactly once, even
after a week with the server down."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from planflow import clock
from planflow.db import Database
from planflow.models import Activity, AnnualReport, AuditEvent, JobRun, Notice, OpenTask, ReportingCycle, User

from .conftest import Cli
from .mailserver import MailServer
from .services.chain import Chain

YEAR = 2026


def _tick(cli: Cli, day: date) -> str:
    result = cli("tick", "--at", datetime.combine(day, time(7, 0), UTC).isoformat())  # 08:00 in Sweden
    assert result.exit_code == 0, result.output
    return result.output


def _run_cycle_to_its_meeting(chain: Chain, day: date) -> None:
    while reports := [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        for task in reports:
            chain.report_and_accept(task.activity_code or "")
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area} följer planen."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": day.isoformat(), "heard": "-"},
    )
    chain.do("ordforande", "steering_meeting", {"notes": "Noterat."})


def _days_that_matter() -> list[date]:
    """Every day of the months a cycle opens in (and of the weeks after Q1's deadline, when its
    overdue report escalates), the 1st and 15th of the others: under a minute for the year."""
    every_day = {3, 4, 6, 9, 12}
    days = []
    day = date(YEAR, 1, 1)
    while day <= date(YEAR, 12, 31):
        if day.month in every_day or day.day in (1, 15):
            days.append(day)
        day += timedelta(days=1)
    return days


def _reminder_days(db: Database, template: str, task_name: str = "report_status") -> Counter[date]:
    with db.reading() as session:
        rows = session.execute(
            select(Notice.created_at, Notice.params).where(Notice.template == template)
        ).all()
    return Counter(created.date() for created, params in rows if params["task"]["key"] == f"task.{task_name}")


def test_a_year_of_ticks(seeded: Database, database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip(
            "the year is walked on SQLite; several schedulers on PostgreSQL: test_scheduler_processes"
        )
    server = MailServer().start()
    cli = Cli(database_url, tmp_path / "instance")
    cli.env |= {
        "PLANFLOW_SMTP_HOST": "127.0.0.1",
        "PLANFLOW_SMTP_PORT": str(server.port),
        "PLANFLOW_BASE_URL": "https://planflow.example.org",
    }
    with seeded.transaction() as session:  # an address that needs SMTPUTF8
        session.execute(update(User).where(User.username == "lead1").values(email="åsa.öberg@södertälje.se"))
        # The demo's timelines lie around the day it was made: let every activity run all year.
        session.execute(update(Activity).values(starts_on=date(YEAR, 1, 1)))
    chain = Chain(seeded)
    outputs: dict[date, str] = {}
    try:
        for day in _days_that_matter():
            if date(YEAR, 3, 14) <= day <= date(YEAR, 3, 20):
                server.stop()  # a week without mail
            elif day == date(YEAR, 3, 21):
                server.start()
            outputs[day] = _tick(cli, day)
            # Q1: every report made at once but 1.1.2's; 1.1.1 is red and waits for a decision.
            if day == date(YEAR, 3, 2):
                for task in [t for t in chain.inbox_of_all() if t.name == "report_status"]:
                    if task.activity_code == "1.1.1":
                        chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
                    elif task.activity_code != "1.1.2":
                        chain.report_and_accept(task.activity_code or "")
            if day == date(YEAR, 6, 2):  # Q1 finished late: Q2 could not open on 06-01
                chain.do("processledare", "draft_recommendation", {"recommendation": "Boka om besöken."})
                chain.do("lead1", "agree_recommendation", {"outcome": "agree"})
                chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Ok."})
                _run_cycle_to_its_meeting(chain, day)
            if day in (date(YEAR, 6, 26), date(YEAR, 9, 28)):  # Q2 and Q3, after their deadlines
                _run_cycle_to_its_meeting(chain, day)
        last = date(YEAR, 12, 31)
        received_before = len(server.inbox.messages)
        again = _tick(cli, last)  # the same moment once more: nothing new
        assert len(server.inbox.messages) == received_before
        assert "skickade e-postmeddelanden: 0" in again and "köade påminnelser: 0" in again
    finally:
        server.stop()
        clock.set_now(None)

    with seeded.reading() as session:
        periods = session.scalars(select(ReportingCycle.period).order_by(ReportingCycle.id)).all()
        deadlines = dict(session.execute(select(ReportingCycle.period, ReportingCycle.deadline)).all())
        skipped = session.scalars(select(JobRun.summary).where(JobRun.job == "open_cycles")).all()
        annual = session.scalars(select(AnnualReport.year)).all()
        overdue_escalations = session.execute(
            select(Notice.created_at, User.username)
            .join(User, User.id == Notice.recipient_id)
            .where(Notice.template == "notice.overdue_escalation")
        ).all()
        red_escalations = session.scalars(
            select(Notice.created_at).where(Notice.template == "notice.escalation")
        ).all()
        escalated_events = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "task.overdue_escalated")
        )
        unsent = session.execute(
            select(
                Notice.template, Notice.created_at, Notice.next_attempt_at, Notice.attempts, Notice.last_error
            ).where(Notice.channel == "mail", Notice.sent_at.is_(None))
        ).all()
        # A mail per notice mailed on its own (those due at once for one person went in one batch).
        mail_notices = session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.channel == "mail", Notice.digest_id.is_(None))
        )
        q4_open = session.scalar(
            select(func.count()).select_from(OpenTask).where(OpenTask.name == "report_status")
        )

    # Four cycles, each opened on its day (Q2 two days late: Q1 was still open, and the run said so).
    assert periods == [f"{YEAR}-Q1", f"{YEAR}-Q2", f"{YEAR}-Q3", f"{YEAR}-Q4"]
    for day in (date(YEAR, 3, 1), date(YEAR, 6, 3), date(YEAR, 9, 1), date(YEAR, 12, 1)):
        assert "öppnade rapporteringscykler: 1" in outputs[day], day
    assert "2026-Q1 är inte avrapporterad" in outputs[date(YEAR, 6, 1)], outputs[date(YEAR, 6, 1)]
    assert any(s.get("skipped") for s in skipped)
    # Deadlines on working days: Q4's 25 December moves to the 23rd (24th: Christmas Eve).
    assert deadlines[f"{YEAR}-Q4"] == date(YEAR, 12, 23) and deadlines[f"{YEAR}-Q2"] == date(YEAR, 6, 25)
    # Reminders 7 and 1 working days before: Q1 (25 March) for 1.1.2 alone, Q4 for every report.
    reminded = _reminder_days(seeded, "notice.reminder")
    assert set(reminded) == {
        date(YEAR, 3, 16),
        date(YEAR, 3, 24),
        date(YEAR, 6, 15),  # 7 working days before 25 June: midsummer eve is not one
        date(YEAR, 6, 24),
        date(YEAR, 9, 16),
        date(YEAR, 9, 24),
        date(YEAR, 12, 14),
        date(YEAR, 12, 22),
    }
    assert reminded[date(YEAR, 12, 22)] == reminded[date(YEAR, 12, 14)] >= q4_open > 0
    # The red deviation escalated once, 14 days after it opened, to the chair and the process leader.
    assert [d.date() for d in red_escalations] == [date(YEAR, 3, 16)] * 2
    # The overdue report escalated to its lead 3 working days late (25 March: on the 30th), to the
    # process leader at 10.
    firsts: dict[str, date] = {}
    for created, name in sorted(overdue_escalations):
        firsts.setdefault(name, created.date())
    assert firsts["lead1"] == date(YEAR, 3, 30)
    assert firsts["processledare"] == date(YEAR, 4, 10)  # 10 working days: Easter is not
    assert escalated_events and escalated_events >= 2
    # The December report started on the 1st.
    assert annual == [YEAR] and "påbörjade årsrapporter: 1" in outputs[date(YEAR, 12, 1)]
    # Mail: nothing lost in the week the server was down, nothing twice.
    ids = server.inbox.ids()
    assert unsent == [] and len(ids) == mail_notices and len(set(ids)) == len(ids)
    assert "misslyckade e-postmeddelanden" in outputs[date(YEAR, 3, 16)]
    utf8 = [m for m in server.inbox.messages if "åsa.öberg@södertälje.se" in str(m["To"])]
    assert utf8 and all(m.get_body(("html",)) is not None for m in utf8)
    digests = [m for m in server.inbox.messages if str(m["Subject"]).startswith("planflow 2026-12-14: ")]
    assert len(digests) == len({str(m["To"]) for m in digests}) > 1  # one a person that day
    text = digests[0].get_body(("plain",)).get_content()
    assert "Påminnelse: Rapportera status" in text and "https://planflow.example.org/tasks/" in text
