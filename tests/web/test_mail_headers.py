"""Every mail planflow sends, as a real SMTP server (aiosmtpd) received it and Python's own parser
(email, policy.default) reads it: a Date and a Message-ID (RFC 5322), Auto-Submitted (RFC 3834),
List-Unsubscribe with one-click List-Unsubscribe-Post (RFC 2369, RFC 8058), and the recipient's
Content-Language, for a single mail, a batch and a digest, in Swedish and English. The link turns
the person's mail off by a POST without a session; a GET only asks. Found: no Date, no
Auto-Submitted, no way to stop a digest, and a Content-Language that set_content() dropped."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select, update

from planflow import clock
from planflow.db import Database
from planflow.models import AuditEvent, User
from planflow.scheduling import Context, load_schedule, run_job
from planflow.services.authority import people
from planflow.services.outputs import mailer, notices

from ..mailserver import MailServer
from ..services.chain import START, Chain

BASE = "https://planflow.example.org"


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _mail_of_every_kind(web: Database, server: MailServer) -> list[EmailMessage]:
    """A cycle opens (each owner's notice waits for the digest); lead2 (English, an address with
    å/ä/ö) gets one escalation, a single mail; lead1 gets two, one batch; the digests go out."""
    clock.set_now(START)
    Chain(web).start_cycle()
    with web.transaction() as session:
        session.execute(
            update(User)
            .where(User.username == "lead2")
            .values(language="en", email="åsa.öberg@södertälje.se")
        )
        lead1, lead2 = people.get_user(session, "lead1"), people.get_user(session, "lead2")
        escalation = {"activity": "2.1.1", "title": "T", "days": 14, "cause": "Ingen budget."}
        notices.queue(session, [lead2], "notice.escalation", escalation, "deviation-1")
        notices.queue(session, [lead1], "notice.escalation", escalation, "deviation-1")
        notices.queue(
            session, [lead1], "notice.escalation", {**escalation, "activity": "2.1.2"}, "deviation-2"
        )
    smtp = mailer.SmtpSettings(host="127.0.0.1", port=server.port, base_url=BASE, unsubscribe_key="test")
    ctx = Context(web, load_schedule(), "Europe/Stockholm", smtp)
    for job in ("digest", "deliver_mail"):
        assert run_job(ctx, job).error is None
    return list(server.inbox.messages)


def _to(message: EmailMessage) -> str:
    return str(message["To"]).split("<")[-1].split("@")[0]


def test_every_mail_has_date_message_id_auto_submitted_unsubscribe_and_language(
    web: Database, server: MailServer
) -> None:
    mails = _mail_of_every_kind(web, server)
    subjects = [str(m["Subject"]) for m in mails]
    assert any(s.startswith("planflow 2026-11-02: ") for s in subjects)  # a digest
    assert "planflow: 2 nya att se över" in subjects  # a batch (lead1's two)
    assert "Red deviation without a decision: 2.1.1 T" in subjects  # a single mail, in English
    with web.reading() as session:
        users = {u.email.split("@")[0]: (u.id, u.language) for u in session.scalars(select(User))}
    for mail in mails:
        user_id, language = users[_to(mail)]
        assert not mail.defects and all(not part.defects for part in mail.walk())
        assert mail["Date"].datetime == START  # RFC 5322's one required date, parsed back
        assert str(mail["Message-ID"]).startswith("<notice-") and str(mail["Message-ID"]).endswith(">")
        assert str(mail["Auto-Submitted"]) == "auto-generated"
        # (A long field is folded after its name: the unfolded value keeps the fold's space.)
        assert _unsubscribe(mail) == f"{BASE}/mail/unsubscribe/{user_id}.{_mac(mail)}"
        assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        assert str(mail["Content-Language"]) == language
        plain = mail.get_body(("plain",))
        assert plain is not None and _unsubscribe(mail) in plain.get_content()  # type: ignore[attr-defined]


def _unsubscribe(mail: EmailMessage) -> str:
    """The address in the List-Unsubscribe field (RFC 2369: one URL in angle brackets)."""
    value = str(mail["List-Unsubscribe"]).strip()
    assert value.startswith("<") and value.endswith(">") and value.count("<") == 1, value
    return value[1:-1]


def _mac(mail: EmailMessage) -> str:
    return _unsubscribe(mail).rsplit(".", 1)[1]


def test_the_unsubscribe_link_turns_the_persons_mail_off_with_one_post_and_no_session(
    app: Flask, web: Database, server: MailServer
) -> None:
    mails = _mail_of_every_kind(web, server)
    owner = Chain(web).owner_of("1.1.1")
    (digest,) = [m for m in mails if _to(m) == owner]
    path = _unsubscribe(digest).removeprefix(BASE)
    client = app.test_client()  # no session, no CSRF token: the signed link is the authority

    def delivery() -> str:
        with web.reading() as session:
            return people.get_user(session, owner).mail_delivery

    asked = client.get(path)  # a link scanner's GET changes nothing
    assert asked.status_code == 200 and "Stäng av min e-post" in asked.get_data(as_text=True)
    assert delivery() == "digest"
    forged = path[:-1] + ("A" if path[-1] != "A" else "B")
    other = path.replace(f"/{path.rsplit('/', 1)[1].split('.')[0]}.", "/1.")
    for wrong in (forged, other, "/mail/unsubscribe/x", "/mail/unsubscribe/1"):
        assert client.post(wrong, data={"List-Unsubscribe": "One-Click"}).status_code == 404, wrong
    assert delivery() == "digest"

    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058's one-click POST
    assert done.status_code == 200 and "får ingen e-post" in done.get_data(as_text=True)
    assert delivery() == "off"
    with web.reading() as session:
        event = session.execute(
            select(AuditEvent.actor, AuditEvent.subject_id, AuditEvent.data)
            .where(AuditEvent.action == "user.mail_delivery")
            .order_by(AuditEvent.seq.desc())
        ).first()
    assert event is not None and tuple(event) == (owner, owner, {"delivery": "off"})
    with web.transaction() as session:  # from now on the owner's notices stay on the site
        person = people.get_user(session, owner)
        notices.queue(session, [person], "notice.escalation", {"activity": "1.1.1"}, "deviation-9")
        assert notices.channel("notice.escalation", person.mail_delivery) == "inapp"
    assert client.post(path).status_code == 200  # again: still off, still fine
