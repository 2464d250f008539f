"""Signing in: a new session at sign-in, failures slowed per account and per address (counted in
the database), the language remembered, security headers and friendly error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
from planflow.services.authority import people
from tests.web.conftest import csrf_token, login, post


def test_sign_in_starts_a_new_session_and_sign_out_ends_it(app: Flask, web: Database) -> None:
    client = app.test_client()
    csrf_token(client)
    before = client.get_cookie("session")
    assert login(client, "anna.nilsson").headers["Location"] == "/inbox"
    cookie = client.get_cookie("session")
    assert cookie is not None and (before is None or cookie.value != before.value)
    assert cookie.http_only and cookie.same_site == "Lax"
    assert client.get("/inbox").status_code == 200
    post(client, "/logout")
    assert client.get("/inbox").status_code == 302


def test_session_cookie_is_secure_outside_local_development(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_wrong_password_says_so_in_swedish_and_keeps_the_username(app: Flask, web: Database) -> None:
    page = login(app.test_client(), "anna.nilsson", "fel lösenord")
    assert page.status_code == 401
    html = page.get_data(as_text=True)
    assert "Fel användarnamn eller lösenord." in html and 'value="anna.nilsson"' in html


def test_failures_slow_down_the_account_in_the_database(app: Flask, web: Database) -> None:
    clock.set_now(clock.now())
    for _ in range(5):
        assert login(app.test_client(), "anna.nilsson", "wrong").status_code == 401
    # Even the right password waits now, from another client (another worker shares the count).
    page = login(app.test_client(), "anna.nilsson")
    assert page.status_code == 401 and "För många misslyckade inloggningar" in page.get_data(as_text=True)
    clock.set_now(clock.now() + timedelta(seconds=31))
    assert login(app.test_client(), "anna.nilsson").status_code == 302


def test_failures_from_one_address_slow_down_every_account_from_it(app: Flask, web: Database) -> None:
    clock.set_now(clock.now())
    for n in range(20):
        login(app.test_client(), f"nobody{n}", "wrong")
    page = login(app.test_client(), "erik.berg")
    assert "För många misslyckade inloggningar" in page.get_data(as_text=True)


def test_language_is_chosen_and_remembered(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    client = signed_in("anna.nilsson")
    assert "Inkorg" in client.get("/inbox").get_data(as_text=True)
    post(client, "/language", {"language": "en", "next": "/inbox"})
    assert "My tasks" in client.get("/inbox").get_data(as_text=True) or "You have no tasks" in client.get(
        "/inbox"
    ).get_data(as_text=True)
    with web.transaction() as session:
        assert people.get_user(session, "anna.nilsson").language == "en"
    post(client, "/language", {"language": "sv", "next": "http://evil.example/"})
    assert 'lang="sv"' in client.get("/inbox").get_data(as_text=True)


def test_every_response_carries_the_security_headers(app: Flask, web: Database) -> None:
    for path in ("/login", "/", "/no/such/page", "/static/planflow.css"):
        response = app.test_client().get(path)
        headers = response.headers
        response.close()
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(signed_in: Callable[[str], FlaskClient]) -> None:
    html = signed_in("processledare").get("/").get_data(as_text=True)
    assert "<style" not in html and "style=" not in html
    assert "<script>" not in html and "<script src=" in html


def test_errors_are_friendly_pages_in_the_layout(app: Flask, web: Database) -> None:
    client = app.test_client()
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Sidan finns inte" in page.get_data(as_text=True)
    assert "Hoppa till innehållet" in page.get_data(as_text=True)
    page = client.post("/login", data={"username": "x", "password": "y"})  # no CSRF token
    assert page.status_code == 400 and "Formuläret hade gått ut" in page.get_data(as_text=True)


def test_a_server_error_is_a_friendly_page(app: Flask, web: Database) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    page = app.test_client().get("/boom")
    assert page.status_code == 500 and "Något gick fel" in page.get_data(as_text=True)


def test_dates_are_in_swedish_form_in_stockholm_time(app: Flask) -> None:
    from datetime import UTC, date, datetime

    from planflow.web import site

    with app.test_request_context("/"):
        assert site.long_date(date(2026, 6, 19)) == "19 juni 2026"
        assert site.long_date(datetime(2026, 6, 18, 22, 30, tzinfo=UTC)) == "19 juni 2026"
        assert site.date_time(datetime(2026, 6, 18, 22, 30, tzinfo=UTC)) == "19 juni 2026 00:30"
