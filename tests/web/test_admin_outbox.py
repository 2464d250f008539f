"""The administrator sees on /admin the mail given up (issue 19: "give up on a mail that can never be
composed with a clear error for the administrator"): to whom, what kind, when it was queued and why,
the same rows `planflow scheduler outbox` prints, from the one query (mailer.outbox)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import update

from planflow import clock
from planflow.db import Database
from planflow.models import User
from planflow.services.authority import people
from planflow.services.outputs import mailer, notices
from tests.conftest import Cli
from tests.mailserver import MailServer

QUEUED = datetime(2026, 11, 2, 10, 15, tzinfo=UTC)  # 11:15 in Stockholm


@pytest.fixture
def server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def _one_mail_given_up(db: Database, server: MailServer) -> None:
    """lead1's address (stored before addresses were checked) cannot carry a mail; lead2's can."""
    clock.set_now(QUEUED)
    with db.transaction() as session:
        session.execute(
            update(User).where(User.username == "lead1").values(email="lead1@example.org\nBcc: x@y")
        )
        leads = [people.get_user(session, "lead1"), people.get_user(session, "lead2")]
        params = {"activity": "2.1.1", "title": "T", "days": 14, "cause": "Ingen budget."}
        notices.queue(session, leads, "notice.escalation", params, "deviation-5")
    smtp = mailer.SmtpSettings(host="127.0.0.1", port=server.port, base_url="https://planflow.example.org")
    sent = mailer.deliver(db.transaction, db.reading, smtp, mailer.DeliveryRules(), "test")
    assert sent["mails_sent"] == 1 and len(server.inbox.messages) == 1


def test_the_admin_page_lists_the_mail_given_up_as_the_command_line_does(
    signed_in: Callable[[str], FlaskClient], web: Database, server: MailServer, cli: Cli
) -> None:
    client = signed_in("admin")
    assert "Ingen e-post har getts upp." in client.get("/admin").get_data(as_text=True)
    _one_mail_given_up(web, server)

    with web.reading() as session:
        (failed,) = mailer.outbox(session).failed
    assert failed.recipient == "lead1" and failed.last_error and "CR or LF" in failed.last_error
    html = client.get("/admin").get_data(as_text=True)
    section = html[html.index('id="outbox"') : html.index("</section>", html.index('id="outbox"'))]
    rows = re.findall(r'<tr data-notice="(\d+)">(.*?)</tr>', section)
    assert rows == [
        (
            str(failed.id),
            f"<td>lead1</td><td><code>notice.escalation</code></td><td>2 november 2026 11:15</td>"
            f"<td>{escape(failed.last_error)}</td>",
        )
    ]
    assert "E-postmeddelanden som väntar på att skickas: 0." in section
    printed = cli("--language", "en", "scheduler", "outbox").output
    assert f"#{failed.id} notice.escalation to lead1, queued 2026-11-02 10:15" in printed
    assert "mail given up (cannot be composed, never sent): 1" in printed


@pytest.mark.parametrize("username", ["processledare", "lead1"])
def test_only_the_administrator_sees_the_outbox(
    signed_in: Callable[[str], FlaskClient], username: str
) -> None:
    assert signed_in(username).get("/admin").status_code == 403
