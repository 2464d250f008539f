"""A live planflow on a seeded SQLite database, served by a real server thread, and Debian's
chromium driven by Playwright (never a downloaded browser: its path is passed explicitly)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from planflow import migrate
from planflow.app import create_app
from planflow.db import Database, get_db
from planflow.services.plan import demo, plans
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.web.conftest import set_passwords

# Werkzeug's development server, which serves the pages to Chromium here, leaves a static file
# open when the browser drops the connection mid-answer (it navigated on): its file is closed by
# the garbage collector, with a ResourceWarning the test cannot have caused. Only that warning,
# only for static files, is let through; every other warning still fails the test.
DROPPED_STATIC = [
    "ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning",
    "ignore:Exception ignored in. <_io.FileIO name='[^']*/static/:pytest.PytestUnraisableExceptionWarning",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            for rule in DROPPED_STATIC:
                item.add_marker(pytest.mark.filterwarnings(rule))


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_MAJOR = 156  # Playwright 1.64.1 drives Chromium 156: keep them matched


def chromium_path() -> str | None:
    return os.environ.get("PLANFLOW_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if not path:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium, or set PLANFLOW_TEST_CHROMIUM)"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


class LiveApp:
    def __init__(self, url: str, db: Database) -> None:
        self.url, self.db = url, db


@contextmanager
def serving(
    tmp_path: Path, settings: Callable[[str], dict[str, Any]] = lambda url: {}, host: str = "127.0.0.1"
) -> Iterator[tuple[str, Database, Flask]]:
    """planflow served on a free port from a thread, on a seeded SQLite database. `settings` are
    made from the address it answers at (`host` and the port), which an identity provider must know
    before the app is made; the app is handed to the server once it is."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://{host}:{server.server_port}"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'planflow.sqlite3'}",
            "SECRET_KEY": "browser-test",
            "SECURE_COOKIES": False,  # plain HTTP on the loopback
            "SCHEDULER_ENABLED": False,
            **settings(url),
        },
        str(tmp_path),
    )
    with app.app_context():
        db = get_db()
        migrate.upgrade(db.engine)
    with db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(session)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, db, app
    finally:
        server.shutdown()
        thread.join(5)
        db.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    """planflow served on a free port from a thread, on a seeded SQLite database."""
    with serving(tmp_path) as (url, db, _):
        set_passwords(db)
        yield LiveApp(url, db)
