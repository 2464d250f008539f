"""The configured escalation days (PLANFLOW_ESCALATION_DAYS) are the service's default: a cycle
started from the page, the API, the command line or the schedule gets them, unless the start
names its own (the API body, --escalation-days, the schedule's cadence.escalation_days)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock, config, installation
from planflow.app import create_app
from planflow.db import Database
from planflow.models import ReportingCycle
from planflow.scheduling import context, run_job
from planflow.services.chain import cadence

from ...conftest import Cli
from ..conftest import post
from .conftest import Api

PERIOD, DEADLINE = "2026-Q4", "2026-12-15"
CONFIGURED = 30


@pytest.fixture(autouse=True)
def _configured_30_days(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installation's setting, as an administrator sets it, read by every create_app of the test
    (the app's and the command line's); the defaults again afterwards."""
    monkeypatch.setenv("PLANFLOW_ESCALATION_DAYS", str(CONFIGURED))
    yield
    installation.configure(config.DEFAULTS)


def _days_of(db: Database, period: str = PERIOD) -> int:
    with db.reading() as session:
        return session.scalars(
            select(ReportingCycle.escalation_days).where(ReportingCycle.period == period)
        ).one()


def test_a_cycle_started_from_the_page_gets_the_configured_days(
    api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("processledare")
    started = post(client, "/cycles", {"period": PERIOD, "deadline": DEADLINE, "confirm": "1"}, "/cycles")
    assert started.status_code == 302, started.get_data(as_text=True)
    assert _days_of(api.db) == CONFIGURED
    assert f"eskaleras efter {CONFIGURED} dagar" in client.get(f"/cycles/{PERIOD}").get_data(as_text=True)


def test_a_cycle_started_through_the_api_gets_the_configured_days(api: Api) -> None:
    started = api("POST", "/cycles", "processledare", json={"period": PERIOD, "deadline": DEADLINE})
    assert started.status_code == 201, started.json
    assert started.json["escalation_days"] == CONFIGURED and _days_of(api.db) == CONFIGURED
    assert started.json["state"] == "open" and started.json["reports"] == 60


def test_the_api_body_names_its_own_days_within_1_to_365(api: Api) -> None:
    for days in (0, 366):
        body = {"period": PERIOD, "deadline": DEADLINE, "escalation_days": days}
        assert api("POST", "/cycles", "processledare", json=body).status_code == 400  # the schema's bounds
    body = {"period": PERIOD, "deadline": DEADLINE, "escalation_days": 45}
    assert api("POST", "/cycles", "processledare", json=body).json["escalation_days"] == 45


def test_a_cycle_started_from_the_command_line_gets_the_configured_days(api: Api, cli: Cli) -> None:
    args = ("cycle", "start", "--period", PERIOD, "--deadline", DEADLINE, "--as", "processledare")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert _days_of(api.db) == CONFIGURED


def test_the_command_line_option_names_its_own_days(api: Api, cli: Cli) -> None:
    args = ("cycle", "start", "--period", PERIOD, "--deadline", DEADLINE, "--as", "processledare")
    assert cli(*args, "--escalation-days", "7").exit_code == 0
    assert _days_of(api.db) == 7


def test_a_cycle_the_schedule_opens_gets_the_configured_days(api: Api) -> None:
    """The shipped schedule names no escalation days: the installation's apply."""
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))  # Q4's cycle opens on 1 December
    ctx = context(api.db, api.app.config, None)
    assert ctx.schedule.cadence.escalation_days is None
    run = run_job(ctx, "open_cycles")
    assert run.summary["cycles_opened"] == 1, run
    assert _days_of(api.db) == CONFIGURED


def test_a_schedule_that_names_its_days_wins(api: Api) -> None:
    quarterly = cadence.Cadence("quarter", 3, 1, 3, 25, escalation_days=21)
    summary = cadence.open_due_cycles(api.db.transaction, quarterly, date(2026, 12, 1))
    assert summary["cycles_opened"] == 1 and summary["reports_started"] == 60
    assert _days_of(api.db) == 21


@pytest.mark.parametrize("days", ["0", "366", "soon"])
def test_an_installation_setting_out_of_range_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, days: str
) -> None:
    """A wrong setting stops the app (and so the command line) with one line naming it, instead of
    every cycle start failing later."""
    monkeypatch.setenv("PLANFLOW_ESCALATION_DAYS", days)
    with pytest.raises(ValueError, match="PLANFLOW_ESCALATION_DAYS must be a whole number"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "SECRET_KEY": "test"}, str(tmp_path))
