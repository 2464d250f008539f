"""The accessibility statement (lag 2018:1937): read without signing in, in Swedish at
/tillganglighet and in English at /accessibility, with every part DIGG asks for, the organisation's
own parts from the configuration, and a link to it in the footer of every page a visitor can reach
before signing in (the role matrix holds the pages behind it to the same)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planflow import config
from planflow.db import Database
from tests.web.conftest import csrf_token

FOOTER_LINK = '<a href="/tillganglighet">'


def _text(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def test_the_statement_is_read_without_signing_in_in_swedish_with_digg_parts(
    app: Flask, web: Database
) -> None:
    page = _text(app.test_client(), "/tillganglighet")
    assert '<html lang="sv">' in page
    assert "<h1>Tillgänglighetsredogörelse för planflow</h1>" in page
    assert "Södertälje kommun står bakom planflow" in page  # the organisation and the service
    assert "är delvis förenlig med lagen om tillgänglighet till digital offentlig service" in page
    assert "Innehåll som inte är tillgängligt" in page and "PDF/UA" in page and "Processdiagrammen" in page
    assert 'href="mailto:tillganglighet@sodertalje.example"' in page  # feedback, from the configuration
    assert "inom 10 arbetsdagar" in page
    assert '<a href="https://www.digg.se/tdosanmalan" id="digg">' in page  # DIGG's complaint form
    assert "självskattning" in page and "5 december 2026" in page  # method and date of assessment
    assert "Det här har inte kontrollerats för hand" in page and "skärmläsare" in page
    assert "är exempel från planflows demonstration" in page  # the defaults say they are examples
    assert "ui.a11y" not in page  # every key has words


def test_the_english_address_serves_the_statement_in_english_to_a_visitor(app: Flask, web: Database) -> None:
    page = _text(app.test_client(), "/accessibility")
    assert '<html lang="en">' in page
    assert "<h1>Accessibility statement for planflow</h1>" in page
    assert "is partially compliant with the Act on accessibility to digital public services" in page
    assert "Content that is not accessible" in page and "This has not been checked by hand" in page
    assert "https://www.digg.se/tdosanmalan" in page and "5 December 2026" in page
    assert "ui.a11y" not in page


def test_a_reader_who_chose_a_language_is_sent_to_the_statement_in_theirs(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    visitor = app.test_client()
    chosen = visitor.post(
        "/language", data={"language": "sv", "next": "/accessibility", "csrf_token": csrf_token(visitor)}
    )
    assert chosen.status_code == 302
    moved = visitor.get("/accessibility")
    assert moved.status_code == 302 and moved.headers["Location"] == "/tillganglighet"
    assert '<html lang="sv">' in _text(visitor, "/tillganglighet")
    member = signed_in("anna.nilsson")
    assert member.get("/accessibility").headers["Location"] == "/tillganglighet"
    assert "Tillgänglighetsredogörelse för planflow" in _text(member, "/tillganglighet")


def test_the_organisations_parts_come_from_the_configuration(app: Flask, web: Database) -> None:
    loaded = config.load(
        Path(app.instance_path),
        {
            **{key: app.config[key] for key in ("DATABASE_URL", "SECRET_KEY")},
            "ACCESSIBILITY_ORGANISATION": "Nykvarns kommun",
            "ACCESSIBILITY_SERVICE": "Planuppföljning",
            "ACCESSIBILITY_EMAIL": "webb@nykvarn.example",
            "ACCESSIBILITY_PHONE": "08-555 010 00",
            "ACCESSIBILITY_RESPONSE_DAYS": 5,
            "ACCESSIBILITY_COMPLIANCE": "not",
            "ACCESSIBILITY_ASSESSED_ON": "2027-01-15",
            "ACCESSIBILITY_UPDATED_ON": "2027-02-01",
        },
    )
    app.config.update({key: value for key, value in loaded.items() if key.startswith("ACCESSIBILITY_")})
    page = _text(app.test_client(), "/tillganglighet")
    assert "Nykvarns kommun står bakom Planuppföljning" in page
    assert "Planuppföljning är inte förenlig med lagen" in page
    assert 'href="mailto:webb@nykvarn.example"' in page and "08-555 010 00" in page
    assert "inom 5 arbetsdagar" in page
    assert "15 januari 2027" in page and "1 februari 2027" in page
    assert "exempel från planflows demonstration" not in page and 'id="example"' not in page


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("ACCESSIBILITY_COMPLIANCE", "mostly", "must be one of fully, partly, not"),
        ("ACCESSIBILITY_ASSESSED_ON", "last spring", "must be a date, YYYY-MM-DD"),
        ("ACCESSIBILITY_UPDATED_ON", "2026-13-01", "must be a date, YYYY-MM-DD"),
        ("ACCESSIBILITY_RESPONSE_DAYS", "0", "must be at least 1"),
    ],
)
def test_a_statement_that_could_not_be_true_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str, says: str
) -> None:
    monkeypatch.setenv(f"PLANFLOW_{key}", value)
    with pytest.raises(ValueError, match=f"PLANFLOW_{key} {says}"):
        config.load(tmp_path)


def test_a_statement_with_no_way_to_give_feedback_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ACCESSIBILITY_EMAIL or PLANFLOW_ACCESSIBILITY_PHONE"):
        config.load(tmp_path, {"ACCESSIBILITY_EMAIL": " ", "ACCESSIBILITY_PHONE": ""})


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/login", 200),
        ("/", 200),  # the public plan
        ("/tillganglighet", 200),
        ("/accessibility", 200),
        ("/no/such/page", 404),
        ("/mail/unsubscribe/1.no-such-token", None),
    ],
)
def test_every_page_a_visitor_reaches_links_the_statement_in_its_footer(
    app: Flask, web: Database, path: str, status: int | None
) -> None:
    response = app.test_client().get(path)
    if status is not None:
        assert response.status_code == status
    assert response.mimetype == "text/html"
    assert FOOTER_LINK in response.get_data(as_text=True), path
