"""Fixtures: an app on a fresh database (SQLite always, PostgreSQL where reachable), the seeded
plan with demo users, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
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
from planflow.services.authority import logins
from planflow.services.plan import demo, plans
from planflow.services.records.audit import OPERATOR_ACTOR

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


# What a fresh database starts as: "empty" (a test that migrates it itself), "migrated" (the app
# fixture) or "seeded" (the seeded fixture). Migrating and loading the plan cost a second or two
# per test; each kind is made once per run as a template and copied (an SQLite file, a PostgreSQL
# database made WITH TEMPLATE). The URLs a test got from a template, by kind.
_MADE_FROM: dict[str, str] = {}


def _kind(request: pytest.FixtureRequest) -> str:
    names = request.fixturenames
    return "seeded" if "seeded" in names else "migrated" if "app" in names else "empty"


def _cheap_hash(password: str) -> str:
    """Most tests make the demo accounts; scrypt would spend two seconds on every set."""
    return generate_password_hash(password, "pbkdf2:sha256:1000")


def _fill(url: str, kind: str, instance: Path) -> None:
    """Migrate the database at `url`, and seed it when `kind` is "seeded", as the fixtures would."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True}, str(instance))
    database: Database = app.extensions["planflow.db"]
    try:
        migrate.upgrade(database.engine)
        if kind == "seeded":
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(logins, "generate_password_hash", _cheap_hash)
                with database.transaction() as session:
                    plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
                    demo.create_demo_data(session)
    finally:
        database.dispose()


class _SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self.folder, self.files = folder, {}  # type: ignore[var-annotated]

    def copy(self, kind: str, target: Path) -> None:
        if kind not in self.files:
            path = self.folder / f"{kind}.sqlite3"
            _fill(f"sqlite:///{path}", kind, self.folder / kind)
            with closing(sqlite3.connect(path)) as connection:  # all of it in the one file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.files[kind] = path
        shutil.copyfile(self.files[kind], target)


class _PostgresTemplates:
    """Template databases beside POSTGRES_URL's, dropped at the end of the run."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.names = folder, {}  # type: ignore[var-annotated]
        self.admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self.run = uuid.uuid4().hex[:8]

    def url(self, name: str) -> str:
        return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def create(self, kind: str) -> str:
        """A new database copied from the `kind` template (made the first time it is asked for)."""
        if kind not in self.names:
            name = f"pf_tmpl_{self.run}_{kind}"
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            _fill(self.url(name), kind, self.folder / kind)
            self.names[kind] = name
        name = f"pf_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.names[kind]}"'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in self.names.values():
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> _SqliteTemplates:
    return _SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def _postgres_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_PostgresTemplates]:
    templates = _PostgresTemplates(tmp_path_factory.mktemp("pg-templates"))
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a fresh database of the kind the test's fixtures need (`_kind`): an SQLite file,
    or a PostgreSQL database of its own."""
    kind = _kind(request)
    if request.param == "sqlite":
        path = tmp_path / "planflow.sqlite3"
        url = f"sqlite:///{path}"
        if kind != "empty":
            request.getfixturevalue("_sqlite_templates").copy(kind, path)
            _MADE_FROM[url] = kind
        yield url
        _MADE_FROM.pop(url, None)
        return
    reason = _postgres_unreachable()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    templates: _PostgresTemplates = request.getfixturevalue("_postgres_templates")
    name = templates.create(kind) if kind != "empty" else None
    if name is None:
        name = f"pf_test_{uuid.uuid4().hex[:12]}"
        with templates.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = templates.url(name)
    if kind != "empty":
        _MADE_FROM[url] = kind
    try:
        yield url
    finally:
        _MADE_FROM.pop(url, None)
        templates.drop(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on a migrated, empty database."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True}, str(tmp_path))
    if database_url not in _MADE_FROM:
        with app.app_context():
            migrate.upgrade(get_db().engine)
    yield app
    app.extensions["planflow.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    with app.app_context():
        return get_db()


@pytest.fixture
def seeded(db: Database, database_url: str) -> Database:
    """The database with the seed plan and the demo users."""
    if _MADE_FROM.get(database_url) != "seeded":
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
    monkeypatch.setattr(logins, "generate_password_hash", _cheap_hash)


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
