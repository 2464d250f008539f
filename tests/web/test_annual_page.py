"""The process leader starts the year's annual report from the reports page (as the API does): the
year is this year in Stockholm unless changed, a started year is refused with the service's words,
the report's state shows; nobody else sees the form, and a POST without the right is the 403 page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import AnnualReport
from tests.services.chain import Chain
from tests.web.conftest import post


def _reports(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(AnnualReport)) or 0)


def test_the_process_leader_starts_the_years_annual_report(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # already New Year in Stockholm
    client = signed_in("processledare")
    page = client.get("/reports/").get_data(as_text=True)
    assert "Ingen årsrapport är startad." in page
    assert 'action="/reports/annual"' in page and 'id="f-year" name="year"' in page
    assert 'value="2027"' in page
    started = post(client, "/reports/annual", {"year": "2026"}, "/reports/")
    assert started.status_code == 302 and started.headers["Location"] == "/reports/"
    page = client.get("/reports/").get_data(as_text=True)
    assert "Årsrapporten för 2026 är startad" in page
    assert "<strong>2026</strong>: processledaren sammanställer" in page
    assert 'href="/reports/annual/2026"' in page and client.get("/reports/annual/2026").status_code == 200
    assert Chain(web).task("processledare", "compile_annual_report")


def test_a_started_year_is_refused_with_the_services_words(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("admin")
    assert post(client, "/reports/annual", {"year": "2026"}, "/reports/").status_code == 302
    again = post(client, "/reports/annual", {"year": "2026"}, "/reports/")
    html = again.get_data(as_text=True)
    assert again.status_code == 409  # a Conflict, as the API answers it (web.http_status)
    assert "Årsrapporten för 2026 i planen Handlingsplan för näringslivsstrategin" in html
    assert "redan påbörjad" in html and "sodertalje-2016" not in html
    assert 'value="2026"' in html and 'aria-describedby="h-year e-annual"' in html
    assert _reports(web) == 1


@pytest.mark.parametrize(
    ("year", "says"),
    [
        ("1999", "utanför tillåtet intervall (2000–2100)"),
        ("tjugo", "ska vara ett årtal, t.ex. 2026"),
        ("", "ska vara ett årtal"),
    ],
)
def test_a_year_that_cannot_be_reported_is_named_beside_the_field(
    signed_in: Callable[[str], FlaskClient], web: Database, year: str, says: str
) -> None:
    refused = post(signed_in("processledare"), "/reports/annual", {"year": year}, "/reports/")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f'<p class="error" id="e-year">{says}' in html and f'value="{year}"' in html
    assert _reports(web) == 0


@pytest.mark.parametrize(
    "username", ["anna.nilsson", "lead1", "ordforande", "kommunstyrelsen", "naringslivsradet"]
)
def test_others_see_no_form_and_are_refused(
    signed_in: Callable[[str], FlaskClient], web: Database, username: str
) -> None:
    client = signed_in(username)
    page = client.get("/reports/")
    if username != "naringslivsradet":  # outsiders do not read reports at all
        assert page.status_code == 200 and 'action="/reports/annual"' not in page.get_data(as_text=True)
    refused = post(client, "/reports/annual", {"year": "2026"})
    assert refused.status_code == 403 and "Du har inte behörighet" in refused.get_data(as_text=True)
    assert _reports(web) == 0


def test_without_the_csrf_token_nothing_starts(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    refused = signed_in("processledare").post("/reports/annual", data={"year": "2026"})
    assert refused.status_code == 400 and _reports(web) == 0


def test_the_reports_page_says_when_and_under_which_paragraph_the_board_took_note(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    client = signed_in("processledare")
    assert post(client, "/reports/annual", {"year": "2026"}, "/reports/").status_code == 302
    chain = Chain(web)
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    page = client.get("/reports/").get_data(as_text=True)
    assert "tog del av" not in page
    chain.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2026-12-14", "paragraph": "§ 201"}
    )
    page = client.get("/reports/").get_data(as_text=True)
    assert "Kommunstyrelsen tog del av rapporten 14 december 2026, § 201" in page
    report = client.get("/reports/annual/2026").get_data(as_text=True)
    assert "Kommunstyrelsen tog del av rapporten 2026-12-14, § 201." in report
