"""Fixtures: an app on a fresh database (SQLite always, PostgreSQL where reachable), the seeded
plan with demo users, and a CLI runner."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from planflow import clock, migrate
from planflow.app import create_app
from planflow.cli import main
from planflow.db import Database, get_db
from planflow.services import demo, people, plans
from planflow.services.audit import OPERATOR_ACTOR

POSTGRES_URL = os.environ.get(
    "PLANFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("PLANFLOW_TEST_REQUIRE_POSTGRES") == "1"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_36680a2d90dc5608.txt"

_postgres_reason: str | None = None


def _postgres_unreachable() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    global _postgres_reason
    if _postgres_reason is None:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect():
                _postgres_reason = ""
        except Exception as exc:  # any failure to connect means: skip (or fail in CI)
            _postgres_reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
        finally:
            engine.dispose()
    return _postgres_reason or None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'planflow.sqlite3'}"
        return
    reason = _postgres_unreachable()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"pf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a migrated, empty database."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True}, str(tmp_path))
    with app.app_context():
        migrate.upgrade(get_db().engine)
    yield app
    app.extensions["planflow.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    with app.app_context():
        return get_db()


@pytest.fixture
def seeded(db: Database) -> Database:
    """The database with the seed plan and the demo users."""
    with db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(session)
    return db


@pytest.fixture
def session(seeded: Database) -> Iterator[Session]:
    """A session on the seeded database for reading; tests open transactions themselves."""
    with seeded.sessions() as session:
        yield session


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests make the demo accounts; scrypt would spend two seconds on every set."""
    monkeypatch.setattr(
        people,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )


@pytest.fixture(autouse=True)
def _clock_runs_free() -> Iterator[None]:
    """Every test starts with a running clock, whatever the one before pinned."""
    clock.set_now(None)
    clock.set_offset(timedelta(0))
    yield
    clock.set_now(None)
    clock.set_offset(timedelta(0))


class Cli:
    """Runs `planflow` against the test's database."""

    def __init__(self, database_url: str, instance_path: Path) -> None:
        self.env = {"PLANFLOW_DATABASE_URL": database_url, "PLANFLOW_INSTANCE_PATH": str(instance_path)}

    def __call__(self, *args: str, **kwargs: Any) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False, **kwargs)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path / "instance")
