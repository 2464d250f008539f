"""Word when work arrives, as mail through a real SMTP server (aiosmtpd on loopback), sent by the
scheduler's own jobs at the moments the clock is set to: a returned report reaches its owner once,
linking to the task; ten tasks arriving for a lead are one mail, not ten; a digest goes out on
working days only, and what waited over a weekend or a holiday goes in the next one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from planflow import clock
from planflow.models import Notice, User
from planflow.scheduling import Context, load_schedule, run_job
from planflow.services.authority import people
from planflow.services.errors import InvalidInput
from planflow.services.outputs import mailer, notices
from planflow.services.records.audit import OPERATOR_ACTOR

from ..mailserver import MailServer
from .chain import Chain

BASE = "https://planflow.example.org"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _at(*when: int) -> datetime:
    return datetime(*when, tzinfo=STOCKHOLM)  # type: ignore[misc]


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _context(chain: Chain, server: MailServer) -> Context:
    smtp = mailer.SmtpSettings(host="127.0.0.1", port=server.port, base_url=BASE)
    return Context(chain.db, load_schedule(), "Europe/Stockholm", smtp)


def _run(ctx: Context, moment: datetime, *jobs: str) -> dict[str, int]:
    """Run the jobs at `moment` (planflow's clock set to it) and return their counts, summed."""
    clock.set_now(moment)
    counts: dict[str, int] = {}
    for job in jobs:
        run = run_job(ctx, job)
        assert run.error is None, run
        for key, value in run.summary.items():
            counts[key] = counts.get(key, 0) + value
    return counts


def _to(server: MailServer, username: str) -> list[EmailMessage]:
    return [m for m in server.inbox.messages if str(m["To"]).split("<")[-1].startswith(f"{username}@")]


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _choose(chain: Chain, username: str, delivery: str) -> None:
    with chain.db.transaction() as session:
        session.execute(update(User).where(User.username == username).values(mail_delivery=delivery))


def test_a_returned_report_reaches_its_owner_once_with_a_link_to_the_task(
    chain: Chain, server: MailServer
) -> None:
    ctx = _context(chain, server)
    owner = chain.owner_of("1.1.1")
    _choose(chain, owner, "immediate")
    chain.do(owner, "report_status", {"status": "green", "comment": "Allt enligt plan."}, "1.1.1")
    chain.do(
        "lead1", "review_report", {"outcome": "return", "comment": "Saknar siffror för oktober."}, "1.1.1"
    )
    task = chain.task(owner, "report_status", "1.1.1")

    sent = _run(ctx, _at(2026, 11, 2, 11), "deliver_mail")
    again = _run(ctx, _at(2026, 11, 2, 11, 5), "deliver_mail")  # the next run sends it no more

    (mail,) = _to(server, owner)
    assert str(mail["Subject"]).startswith("Återsänd: ") and "1.1.1" in str(mail["Subject"])
    body = _text(mail)
    assert (
        "Fokusområdesansvarig 1 (demo) har återsänt" in body and "Skäl: Saknar siffror för oktober." in body
    )
    assert f"{BASE}/tasks/{task.id}" in body
    assert f'href="{BASE}/tasks/{task.id}"' in str(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert sent["mails_sent"] >= 1 and again["mails_sent"] == 0


def test_a_lead_with_ten_arriving_tasks_gets_one_mail_not_ten(chain: Chain, server: MailServer) -> None:
    ctx = _context(chain, server)
    _choose(chain, "lead1", "immediate")
    with chain.db.reading() as session:
        from planflow.models import Activity, FocusArea, InterventionArea

        codes = session.scalars(
            select(Activity.code)
            .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
            .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
            .where(FocusArea.number == 1)
            .order_by(Activity.id)
            .limit(10)
        ).all()
    for code in codes:
        chain.do(chain.owner_of(code), "report_status", {"status": "green"}, code)
    with chain.db.transaction() as session:  # and an escalation due at the same moment: in the same mail
        lead = people.get_user(session, "lead1")
        escalation = {"activity": "2.1.1", "title": "T", "days": 14, "cause": "Ingen budget."}
        notices.queue(session, [lead], "notice.escalation", escalation, "deviation-99")
    reviews = [t.id for t in chain.inbox("lead1") if t.name == "review_report"]
    assert len(reviews) == 10

    _run(ctx, _at(2026, 11, 2, 11), "deliver_mail")
    _run(ctx, _at(2026, 11, 2, 11, 5), "deliver_mail")

    (batch,) = _to(server, "lead1")
    assert str(batch["Subject"]) == "planflow: 11 nya att se över"
    body = _text(batch)
    assert all(f"{BASE}/tasks/{task_id}" in body for task_id in reviews)
    assert body.count("• Ny uppgift: ") == 10 and body.count("• Röd avvikelse utan beslut: 2.1.1 T") == 1
    with chain.db.reading() as session:
        unsent = session.scalars(
            select(Notice.id).where(Notice.template == "notice.task_arrived", Notice.sent_at.is_(None))
        ).all()
    assert unsent == []  # each of the ten is marked sent with the mail that carried it


def test_a_digest_goes_out_on_working_days_and_waits_over_weekends_and_holidays(
    chain: Chain, server: MailServer
) -> None:
    """The owner of 1.1.1 keeps the default, a daily digest: the cycle's opening (Monday 2 November)
    goes in Monday 9 November's digest, not Saturday's; a report returned after that digest waits
    through Christmas Eve, Christmas Day and a Saturday for Monday 28 December's."""
    ctx = _context(chain, server)
    owner = chain.owner_of("1.1.1")

    saturday = _run(ctx, _at(2026, 11, 7, 8), "digest", "deliver_mail")
    assert saturday["digests"] == 0 and _to(server, owner) == []

    monday = _run(ctx, _at(2026, 11, 9, 8), "digest", "deliver_mail")
    (first,) = _to(server, owner)
    assert monday["digests"] >= 1
    assert str(first["Subject"]) == "planflow 2026-11-09: 1 att se över"
    assert "Rapporteringsomgången 2026-Q4 har öppnat" in _text(first)

    clock.set_now(_at(2026, 11, 9, 10))
    chain.do(owner, "report_status", {"status": "green"}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Fler detaljer, tack."}, "1.1.1")
    task = chain.task(owner, "report_status", "1.1.1")
    _run(ctx, _at(2026, 11, 9, 12), "digest", "deliver_mail")  # the owner's of today has gone out
    for day in (_at(2026, 12, 24, 8), _at(2026, 12, 25, 8), _at(2026, 12, 26, 8)):
        held = _run(ctx, day, "digest", "deliver_mail")
        assert held["digests"] == 0, day
    assert len(_to(server, owner)) == 1

    _run(ctx, _at(2026, 12, 28, 8), "digest", "deliver_mail")
    _run(ctx, _at(2026, 12, 28, 9), "digest", "deliver_mail")  # and once only
    second = _to(server, owner)[1:]
    assert [str(m["Subject"]) for m in second] == ["planflow 2026-12-28: 1 att se över"]
    body = _text(second[0])
    assert "Skäl: Fler detaljer, tack." in body and f"{BASE}/tasks/{task.id}" in body


def test_overdue_reports_escalated_to_a_lead_in_one_run_are_one_mail_listing_them(
    chain: Chain, server: MailServer
) -> None:
    """Found: each escalation went alone, ten mails to one lead in one second. Three working days
    after the deadline (15 December: the 18th) every overdue report of lead1's area is escalated
    to lead1, in one mail that links to each task."""
    ctx = _context(chain, server)
    counts = _run(ctx, _at(2026, 12, 18, 8), "remind", "deliver_mail")
    with chain.db.reading() as session:
        lead1 = people.get_user(session, "lead1").id
        escalated = session.scalars(
            select(Notice.params).where(
                Notice.template == "notice.overdue_escalation", Notice.recipient_id == lead1
            )
        ).all()
    assert counts["escalated_to_lead"] >= len(escalated) > 2
    (mail,) = _to(server, "lead1")
    assert str(mail["Subject"]) == f"planflow: {len(escalated)} nya att se över"
    body = _text(mail)
    assert body.count("• Eskalerat: ") == len(escalated)
    assert all(f"{BASE}/tasks/{params['task_id']}" in body for params in escalated)


def test_a_mail_that_cannot_be_composed_is_given_up_with_its_error_for_the_administrator(
    chain: Chain, server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Found: an address no mail can carry failed on every attempt, retried for ever. A name with a
    line break stored before names were checked no longer stops a mail: it is shown on one line."""
    ctx = _context(chain, server)
    with chain.db.transaction() as session:  # stored before the rule: a broken address, a broken name
        session.execute(
            update(User).where(User.username == "lead1").values(email="lead1@example.org\nBcc: x@y")
        )
        session.execute(update(User).where(User.username == "lead2").values(display_name="Lead\r\nTvå"))
        lead1, lead2 = people.get_user(session, "lead1"), people.get_user(session, "lead2")
        params = {"activity": "2.1.1", "title": "T", "days": 14, "cause": "Ingen budget."}
        notices.queue(session, [lead1, lead2], "notice.escalation", params, "deviation-5")
    first = _run(ctx, _at(2026, 11, 2, 11), "deliver_mail")
    later = _run(ctx, _at(2026, 11, 3, 11), "deliver_mail")  # a day on: no backoff left to wait for

    assert first["mails_sent"] == 1 and later["mails_sent"] == 0
    (mail,) = server.inbox.messages
    assert str(mail["To"]) == "Lead Två <lead2@demo.planflow.invalid>"
    with chain.db.reading() as session:
        broken = session.scalars(
            select(Notice).where(Notice.template == "notice.escalation", Notice.recipient_id == lead1.id)
        ).one()
        shown = mailer.outbox(session)
        state = (broken.attempts, broken.next_attempt_at, broken.sent_at, broken.last_error)
        broken_id = broken.id
    assert state[:3] == (1, None, None)  # tried once, never again, not sent
    assert state[3] is not None and state[3].startswith("cannot compose: ") and "CR or LF" in state[3]
    assert [(row.id, row.recipient, row.last_error) for row in shown.failed] == [
        (broken_id, "lead1", state[3])
    ]
    assert shown.waiting == 0
    assert any(f"mail {broken_id} (notice.escalation) given up" in r.getMessage() for r in caplog.records)


def test_a_name_on_more_than_one_line_is_refused(chain: Chain) -> None:
    """Found: a display name with a line break was taken, and no mail to that person could then be
    written. One rule (engine.forms.ON_A_LINE) for the service every front end calls."""
    for name in ("Anna\nNilsson", "Anna\rNilsson", "Anna\tNilsson", "Anna\x85Nilsson"):
        with chain.db.transaction() as session, pytest.raises(InvalidInput) as refused:
            people.add_user(session, OPERATOR_ACTOR, "anna.ny", name, "anna.ny@example.org")
        assert set(refused.value.fields) == {"display_name"}, name
    with chain.db.transaction() as session:
        assert people.add_user(session, OPERATOR_ACTOR, "anna.ny", "Anna Nilsson", "anna.ny@example.org")
