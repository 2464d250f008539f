"""Fixtures for the API: the seeded database with a cycle open, a token per demo user, and a
client that sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from planflow import clock
from planflow.db import Database
from planflow.models import User
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR

from ...services.chain import Chain

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Api:
    """Calls /api/v1 as a user (by username), or anonymously with None."""

    def __init__(self, app: Flask, db: Database) -> None:
        self.app, self.db = app, db
        self.client: FlaskClient = app.test_client()
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            with self.db.transaction() as session:
                self.tokens[username] = people.issue_token(session, OPERATOR_ACTOR, username)
        return self.tokens[username]

    def __call__(
        self, method: str, path: str, user: str | None, json: Any = None, **kwargs: Any
    ) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        if json is not None:
            kwargs["json"] = json
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


@pytest.fixture
def api(app: Flask, seeded: Database) -> Api:
    clock.set_now(START)
    api = Api(app, seeded)
    with seeded.transaction() as session:
        for user in session.scalars(select(User.username)).all():
            api.tokens[user] = people.issue_token(session, OPERATOR_ACTOR, user)
    return api


@pytest.fixture
def chain(api: Api) -> Chain:
    chain = Chain(api.db)
    chain.start_cycle()
    return chain
