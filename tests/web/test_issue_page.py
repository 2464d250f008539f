"""Reports are issued from their page (issue 18, item 12: "reports can be issued only from the
command line"): a confirmation says what will be frozen (the report, its language, the number it
gets), the issue is the same service the CLI calls (issued.issue_report: the row, its files, its
audit event), and the issued report's page offers its frozen files. Only those with the right to
issue see the form; anyone else is refused by the service."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import IssuedReport
from planflow.services.records import audit
from tests.services.chain import Chain
from tests.services.steering import annual_report_approved
from tests.web.conftest import post

CONFIRM = "/reports/issue/annual/2026"


@pytest.fixture(autouse=True)
def _december(web: Database) -> None:
    """The 2026 annual report approved by the steering group: only an approved one is issued."""
    clock.set_now(datetime(2026, 12, 2, 9, tzinfo=UTC))
    annual_report_approved(Chain(web))


def _issued(db: Database) -> list[IssuedReport]:
    with db.reading() as session:
        rows = list(session.scalars(select(IssuedReport).order_by(IssuedReport.id)))
        session.expunge_all()
        return rows


def _count(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedReport)) or 0)


def _issue(client: FlaskClient, number: str, language: str = "sv"):  # type: ignore[no-untyped-def]
    return post(client, CONFIRM, {"number": number, "language": language}, CONFIRM)


def test_the_process_leader_issues_the_annual_report_from_its_page(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    page = client.get("/reports/annual/2026").get_data(as_text=True)
    assert 'action="/reports/issue/annual/2026"' in page and 'id="f-language" name="language"' in page

    confirm = client.get(CONFIRM + "?language=en")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Utfärda Årsrapport 2026?" in html
    assert "<dd>engelska</dd>" in html and "Utgåva 1: rapporten har inte utfärdats förut." in html
    assert "DOCX, HTML, PDF" in html
    assert 'name="number" value="1"' in html and 'name="language" value="en"' in html
    assert _count(web) == 0  # confirming freezes nothing

    done = _issue(client, "1", "en")
    assert done.status_code == 302
    (row,) = _issued(web)
    assert done.headers["Location"] == f"/reports/issued/{row.id}"
    assert (row.kind, row.subject, row.number, row.language, row.issued_by) == (
        "annual",
        "2026",
        1,
        "en",
        "processledare",
    )
    with web.reading() as session:
        (event,) = audit.events(session, action="report.issued")
        assert event.actor == "processledare" and event.data["number"] == 1
        assert event.subject_id == str(row.id)

    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Årsrapport 2026 är utfärdad som utgåva 1." in shown  # the flash
    assert "<h1>Årsrapport 2026, utgåva 1</h1>" in shown and row.sha256 in shown
    links = re.findall(rf'href="(/reports/issued/{row.id}\.(\w+))"', shown)
    assert sorted(fmt for _, fmt in links) == ["docx", "html", "pdf"]
    pdf = client.get(f"/reports/issued/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    listed = client.get("/reports/").get_data(as_text=True)
    assert f'href="/reports/issued/{row.id}"' in listed


def test_a_second_issue_is_numbered_two_and_leaves_the_first(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("admin")
    assert _issue(client, "1").status_code == 302
    html = client.get(CONFIRM).get_data(as_text=True)
    assert "Utgåva 2: en ny utgåva. Tidigare utgåvor (1) finns kvar som de är." in html
    assert 'name="number" value="2"' in html and 'name="language" value="sv"' in html
    assert _issue(client, "2").status_code == 302
    first, second = _issued(web)
    assert (first.number, second.number) == (1, 2) and first.sha256 and first.id != second.id


def test_a_confirmation_overtaken_by_another_issue_is_refused_and_shows_the_new_number(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    leader, admin = signed_in("processledare"), signed_in("admin")
    assert 'name="number" value="1"' in leader.get(CONFIRM).get_data(as_text=True)
    assert _issue(admin, "1").status_code == 302  # someone else issues meanwhile
    stale = _issue(leader, "1")
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Årsrapport 2026 har fått en ny utgåva under tiden" in html
    assert 'name="number" value="2"' in html
    assert _count(web) == 1


@pytest.mark.parametrize("username", ["anna.nilsson", "lead1", "ordforande", "kommunstyrelsen"])
def test_a_reader_without_the_right_sees_no_form_and_is_refused(
    signed_in: Callable[[str], FlaskClient], web: Database, username: str
) -> None:
    client = signed_in(username)
    page = client.get("/reports/annual/2026")
    assert page.status_code == 200 and "/reports/issue/" not in page.get_data(as_text=True)
    assert client.get(CONFIRM).status_code == 403
    refused = _issue(client, "1")
    assert refused.status_code == 403 and "Du har inte behörighet" in refused.get_data(as_text=True)
    assert _count(web) == 0


def test_what_cannot_be_issued_is_refused_before_the_confirmation(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    assert client.get("/reports/issue/annual/1999").status_code == 400
    not_approved = client.get("/reports/issue/annual/2025")  # never compiled nor approved
    assert not_approved.status_code == 409
    assert "Årsrapporten för 2025" in not_approved.get_data(as_text=True)
    assert client.get("/reports/issue/weekly/2026").status_code == 400
    assert client.get(CONFIRM + "?language=de").status_code == 400
    assert client.get("/reports/issue/steering/2026-Q1").status_code == 404  # no such cycle
    assert _issue(client, "1", "de").status_code == 400
    assert _count(web) == 0


def test_without_the_csrf_token_nothing_is_issued(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    refused = signed_in("processledare").post(CONFIRM, data={"number": "1", "language": "sv"})
    assert refused.status_code == 400 and _count(web) == 0


def test_a_post_without_the_confirmed_number_issues_nothing_and_shows_the_confirmation(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    refused = post(signed_in("processledare"), CONFIRM, {"language": "sv"}, CONFIRM)
    assert refused.status_code == 409 and 'name="number" value="1"' in refused.get_data(as_text=True)
    assert _count(web) == 0
