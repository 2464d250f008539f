"""A simulated December, 2026-12-01 to 2027-01-10, with the scheduler's own jobs ticking three times a
day against a real SMTP server (aiosmtpd on loopback): the schedule opens 2026-Q4 on 1 December (its
deadline, 25 December, moved to the 23rd), reminders come before the deadline, overdue reports
escalate to their leads after it, a red deviation opened on 10 December at 09:01 escalates by its
timer on Christmas Eve at 09:01, and people act on a Sunday. No mail is sent on 24–26 December,
New Year's Eve or Day, Epiphany or a weekend; what was made on such a day arrives on the next
working day. Found: the escalation was mailed to the chair and the process leader on Christmas Eve."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from planflow import clock
from planflow.db import Database
from planflow.models import Notice, User
from planflow.scheduling import JOBS, Context, load_schedule, run_job
from planflow.services.outputs import mailer

from .mailserver import MailServer
from .services.chain import Chain

STOCKHOLM = ZoneInfo("Europe/Stockholm")
BASE = "https://planflow.example.org"
FIRST, LAST = date(2026, 12, 1), date(2027, 1, 10)
# The days off the issue names, written out here rather than asked of services/workdays (the rule
# under test): Christmas Eve to Boxing Day, New Year's Eve and Day, Epiphany, and every weekend.
HOLIDAYS = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 31)}
HOLIDAYS |= {date(2027, 1, 1), date(2027, 1, 6)}
# Each day's ticks: after the digest's time (07:30), just after the deviation's timer (09:01), noon.
TICKS = (time(7, 45), time(9, 5), time(12, 0))
JOBS_TICKED = [job for job in JOBS if job not in ("audit_checkpoint", "forget")]


def _day_off(day: date) -> bool:
    return day.weekday() >= 5 or day in HOLIDAYS


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=STOCKHOLM)


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _read(messages: list[EmailMessage]) -> dict[str, str]:
    """What each person read in `messages`: their mails' subjects and plain texts, by username."""
    read: dict[str, str] = defaultdict(str)
    for message in messages:
        read[str(message["To"]).split("<")[-1].split("@")[0]] += f"{message['Subject']}\n{_body(message)}\n"
    return read


def test_a_simulated_december_sends_no_mail_on_a_day_off(seeded: Database, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the month is walked on SQLite; mail on PostgreSQL: test_scheduler_processes")
    chain = Chain(seeded)
    with seeded.transaction() as session:  # lead1 wants mail at once, the others their digest
        session.execute(update(User).where(User.username == "lead1").values(mail_delivery="immediate"))
    server = MailServer().start()
    ctx = Context(
        seeded,
        load_schedule(),
        "Europe/Stockholm",
        mailer.SmtpSettings(host="127.0.0.1", port=server.port, base_url=BASE),
    )
    arrived: dict[date, list[EmailMessage]] = defaultdict(list)
    acts = {
        # A red report accepted on a Thursday at 09:01: its deviation escalates 14 days later.
        _local(date(2026, 12, 10), time(9, 1)): lambda: chain.report_and_accept(
            "1.1.1", "red", cause="Inga besök bokade."
        ),
        # Work on a Sunday: lead1 (mail at once) gets the report, its owner (a digest) it back.
        _local(date(2026, 12, 27), time(10, 0)): lambda: chain.do(
            chain.owner_of("1.1.2"), "report_status", {"status": "green"}, "1.1.2"
        ),
        _local(date(2026, 12, 27), time(10, 5)): lambda: chain.do(
            "lead1", "review_report", {"outcome": "return", "comment": "Komplettera, tack."}, "1.1.2"
        ),
    }
    try:
        day = FIRST
        while day <= LAST:
            for at in TICKS:
                moment = _local(day, at)
                for act_at in sorted(a for a in acts if moment - timedelta(hours=3) < a <= moment):
                    clock.set_now(act_at)
                    acts.pop(act_at)()
                clock.set_now(moment)
                before = len(server.inbox.messages)
                for job in JOBS_TICKED:
                    run = run_job(ctx, job)
                    assert run.error is None, run
                arrived[day] += server.inbox.messages[before:]
            day += timedelta(days=1)
    finally:
        server.stop()
        clock.set_now(None)

    sent_on = {day for day, messages in arrived.items() if messages}
    assert not {day for day in sent_on if _day_off(day)}, "mail on a day off"
    # The Date header a mail client shows, read by Python's parser, says the same.
    dates = {m["Date"].datetime.astimezone(STOCKHOLM).date() for ms in arrived.values() for m in ms}
    assert dates == sent_on

    with seeded.reading() as session:
        made = session.execute(
            select(Notice.template, Notice.created_at, Notice.sent_at, User.username).join(
                User, User.id == Notice.recipient_id
            )
        ).all()
    # The timer fired on Christmas Eve; its mail waited for Monday 28 December, the next working day.
    escalations = [(c, s, who) for template, c, s, who in made if template == "notice.escalation"]
    assert sorted(who for _, _, who in escalations) == ["ordforande", "processledare"]
    for created, sent, _ in escalations:
        assert clock.local(created).date() == date(2026, 12, 24)
        assert sent is not None and clock.local(sent).date() == date(2026, 12, 28)
    monday = _read(arrived[date(2026, 12, 28)])
    assert "Röd avvikelse utan beslut: 1.1.1" in monday["ordforande"]
    assert f"{BASE}/processes/" in monday["ordforande"]  # the link to the deviation
    assert "Ny uppgift: Granska rapport, 1.1.2" in monday["lead1"]  # Sunday's report, on Monday
    # Sunday's return went in its owner's digest on Monday; nothing was mailed on the Sunday.
    assert "Komplettera, tack." in monday[chain.owner_of("1.1.2")]
    # Reminders 7 and 1 working days before the 23rd, overdue reports escalated to the leads 3
    # working days after it (28, 29, 30 December: New Year's Eve is not one), each mailed that day.
    reminded = {clock.local(c).date() for template, c, _, _ in made if template == "notice.reminder"}
    assert reminded == {date(2026, 12, 14), date(2026, 12, 22)}
    escalated = {
        clock.local(c).date() for template, c, _, _ in made if template == "notice.overdue_escalation"
    }
    assert escalated == {date(2026, 12, 30)}
    assert "Eskalerat: " in _read(arrived[date(2026, 12, 30)])["lead1"]
    # The reminders of the 22nd, in the owners' digests of that morning.
    assert any(
        "Påminnelse: Rapportera status" in read for read in _read(arrived[date(2026, 12, 22)]).values()
    )
    # Everything made was mailed (nothing left waiting at the end) and nothing twice.
    assert not [row for row in made if row[2] is None and row[0] in ("notice.escalation",)]
    ids = server.inbox.ids()
    assert len(ids) == len(set(ids)) > 0
