"""A request whose transaction the database rolled back as a deadlock's victim (or for a
serialization failure) is run again, and the client sees one answer: the work done once."""

from __future__ import annotations

from typing import Any

import psycopg.errors
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from planflow.models import AuditEvent, StatusReport
from planflow.services.chain import instances
from planflow.services.records import audit

from ...services.chain import Chain
from .conftest import Api
from .test_chain_http import complete, task_of


def _losing(times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the next `times` saves of an instance fail as a deadlock's victim would, after the
    report, its audit event and the engine's step are all done in the transaction."""
    save, calls = instances.save, []

    def save_or_lose(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError(
                "UPDATE process_instance …", {}, psycopg.errors.DeadlockDetected("deadlock detected")
            )
        save(*args, **kwargs)

    monkeypatch.setattr(instances, "save", save_or_lose)
    return calls


def _reports_and_events(api: Api) -> tuple[int, int]:
    with api.db.reading() as session:
        reports = session.scalar(select(func.count()).select_from(StatusReport))
        events = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "status.reported")
        )
        assert audit.verify(session).intact
        return reports or 0, events or 0


def test_a_deadlocked_completion_is_tried_again_and_done_once(
    api: Api, chain: Chain, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    task = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    calls = _losing(2, monkeypatch)
    done = complete(api, "anna.nilsson", task, {"status": "green"})
    assert done.status_code == 200 and done.json["completed_by"] == "anna.nilsson"
    assert len(calls) == 3
    assert _reports_and_events(api) == (1, 1)
    assert "tried again (try 3 of 3): deadlock detected" in caplog.text


def test_a_completion_that_keeps_losing_is_refused_with_nothing_changed(
    api: Api, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    _losing(3, monkeypatch)
    refused = complete(api, "anna.nilsson", task, {"status": "green"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "error.database.busy"
    assert "nothing was changed" in refused.json["detail"]
    assert _reports_and_events(api) == (0, 0)
    monkeypatch.undo()
    assert complete(api, "anna.nilsson", task, {"status": "green"}).status_code == 200
    assert _reports_and_events(api) == (1, 1)


def test_a_page_is_tried_again_too(api: Api, chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    from ..conftest import login, post, set_passwords

    set_passwords(api.db)
    client = api.app.test_client()
    login(client, "anna.nilsson")
    task = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    calls = _losing(1, monkeypatch)
    answer = post(
        client,
        f"/tasks/{task['id']}",
        {"status": "green", "comment": "Ok."},
        token_from=f"/tasks/{task['id']}",
    )
    assert answer.status_code in (302, 303) and len(calls) == 2
    assert _reports_and_events(api) == (1, 1)


def test_a_request_on_a_connection_the_database_dropped_is_tried_again_on_a_new_one(
    api: Api, chain: Chain
) -> None:
    """Pooled connections are not pinged before use: when the database has dropped them (a
    restart), the request that meets a dead one runs again on a new connection."""
    if api.db.url.get_backend_name() == "sqlite":
        pytest.skip("SQLite has no server to drop a connection")
    task = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    assert api("GET", "/me", "anna.nilsson").status_code == 200  # the pools hold live connections
    killer = create_engine(api.db.url)
    with killer.connect() as connection:
        dropped = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()
    assert dropped
    done = complete(api, "anna.nilsson", task, {"status": "green"})
    assert done.status_code == 200
    assert _reports_and_events(api) == (1, 1)
