"""Web fixtures: a seeded app whose demo accounts have known passwords, and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import User
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password_of(username: str) -> str:
    return f"pw-{username}-2026"


def set_passwords(db: Database) -> None:
    with db.transaction() as session:
        for username in session.scalars(select(User.username)).all():
            people.set_password(session, OPERATOR_ACTOR, username, password_of(username))


@pytest.fixture
def web(seeded: Database) -> Database:
    """The seeded database with every demo account's password known to the tests."""
    set_passwords(seeded)
    return seeded


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    match = CSRF.search(client.get(path, follow_redirects=True).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, token_from: str = "/inbox"):  # type: ignore[no-untyped-def]
    """POST a form as a browser does: with the page's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})


def login(client: FlaskClient, username: str, password: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password or password_of(username), "csrf_token": token},
    )


@pytest.fixture
def signed_in(app: Flask, web: Database) -> Callable[[str], FlaskClient]:
    """A test client signed in as the given demo account."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make
