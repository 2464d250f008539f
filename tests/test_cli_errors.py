"""What a new user meets when something is wrong: the installed `planflow` command, run as a
process, says what is at fault in one line on stderr and exits non-zero, without a traceback.
The language is the configured one, Swedish unless set (`planflow --language en` for English)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from planflow import clock, resources
from planflow.models import ReportingCycle
from planflow.services.chain import cycles
from planflow.services.records.audit import Actor

from .conftest import Cli

PLANFLOW = shutil.which("planflow", path=str(Path(sys.executable).parent))
UNREACHABLE = "postgresql+psycopg://planflow@127.0.0.1:9/none?connect_timeout=2"


def planflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command with only the given PLANFLOW_* settings."""
    assert PLANFLOW is not None, "the planflow command is not installed beside this Python"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PLANFLOW_")}
    # A server that wrongly starts is cut off by the timeout, which fails the test.
    return subprocess.run(
        [PLANFLOW, *args], env=clean | env, capture_output=True, text=True, timeout=30, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error line, after checking it is the only one, without a traceback, on a failure."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Fel: ")
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings for a fresh SQLite database in the test's own instance folder."""
    return {
        "PLANFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLANFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'planflow.sqlite3'}",
    }


@pytest.fixture
def initialised(env: dict[str, str]) -> Cli:
    """The same database after `planflow init --demo` (run in-process: it is faster)."""
    cli = Cli(env["PLANFLOW_DATABASE_URL"], Path(env["PLANFLOW_INSTANCE_PATH"]))
    assert cli("init", "--demo").exit_code == 0
    return cli


def test_a_database_never_initialised_says_run_init(env: dict[str, str], tmp_path: Path) -> None:
    error = one_line_error(planflow(env, "users", "list"))
    assert "är inte initierad: kör `planflow init`" in error
    assert not (tmp_path / "planflow.sqlite3").exists()  # and no empty database is left behind


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "PLANFLOW_DATABASE_URL 'nonsense' is not a database URL"),
        ("mysql://x", "PLANFLOW_DATABASE_URL 'mysql://x': planflow runs on SQLite or PostgreSQL only"),
    ],
)
def test_an_unusable_database_url_is_refused(env: dict[str, str], url: str, says: str) -> None:
    assert says in one_line_error(planflow(env | {"PLANFLOW_DATABASE_URL": url}, "users", "list"))


def test_an_instance_folder_below_a_file_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    settings = env | {"PLANFLOW_INSTANCE_PATH": str(tmp_path / "file" / "x")}
    error = one_line_error(planflow(settings, "users", "list"))
    assert f"instance folder '{tmp_path / 'file' / 'x'}' cannot be made: Not a directory" in error


def test_a_time_outside_the_working_years_is_refused(env: dict[str, str]) -> None:
    error = one_line_error(planflow(env, "tick", "--at", "0001-01-01T00:00+01:00"))
    assert "'--at': '0001-01-01T00:00+01:00' ligger utanför åren 2000 till 2100" in error


def test_an_impossible_deadline_is_not_a_date_in_the_calendar(env: dict[str, str]) -> None:
    error = one_line_error(planflow(env, "cycle", "start", "--period", "2099-Q1", "--deadline", "2099-02-30"))
    assert "'--deadline': '2099-02-30' är inte ett datum som finns i kalendern" in error


def test_zero_escalation_days_are_refused_not_taken_as_the_default(
    env: dict[str, str], initialised: Cli
) -> None:
    args = ("cycle", "start", "--period", "2099-Q1", "--deadline", "2099-03-15", "--as", "processledare")
    error = one_line_error(planflow(env, *args, "--escalation-days", "0"))
    assert "Eskalering efter 0 dagar: ange 1–365 dagar." in error
    assert initialised(*args).exit_code == 0  # nothing was stored under 2099-Q1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b" " * (5 * 2**20 + 1), "Planfilen plan.json är större än 5 MB"),
        (b"[" * 100_000, "Planfilen plan.json är för djupt nästlad för att vara en plan"),
        (None, "Planfilen plan.json: strategiperioden slutar (2016) innan den börjar (2022)"),
    ],
    ids=["huge", "deep", "period-backwards"],
)
def test_a_plan_file_that_is_no_plan_is_refused(
    env: dict[str, str], tmp_path: Path, content: bytes | None, says: str
) -> None:
    if content is None:
        seed = json.loads(resources.data_file("sodertalje_2016.json").read_text(encoding="utf-8"))
        seed["strategy_period"] = {"start": 2022, "end": 2016}
        content = json.dumps(seed).encode()
    (tmp_path / "plan.json").write_bytes(content)
    error = one_line_error(planflow(env, "init", "--plan", str(tmp_path / "plan.json")))
    assert says in error and len(error) < 200


def test_serve_on_a_busy_port_says_so(env: dict[str, str], initialised: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = planflow(env, "serve", "--host", "127.0.0.1", "--port", str(port))
    busy = f"kan inte ta emot anrop på '127.0.0.1' port {port}: Address already in use"
    assert busy in one_line_error(result)
    assert not result.stdout


@pytest.mark.parametrize(
    ("url", "says"),
    [(None, "är inte initierad: kör `planflow init`"), (UNREACHABLE, "kan inte använda databasen på")],
    ids=["uninitialised", "unreachable"],
)
def test_serve_refuses_a_database_it_cannot_use(env: dict[str, str], url: str | None, says: str) -> None:
    settings = env | ({"PLANFLOW_DATABASE_URL": url} if url else {})
    result = planflow(settings, "serve", "--host", "127.0.0.1", "--port", "0")
    assert says in one_line_error(result)
    assert not result.stdout


def test_a_racing_duplicate_is_a_conflict_and_changes_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `cycle start` for one period at once: both pass the "already exists" check, and the
    second to insert meets the unique key. Simulated in one process by inserting twice."""
    assert cli("init", "--demo").exit_code == 0
    start_cycle = cycles.start_cycle

    def racing(
        session: Session,
        actor: Actor,
        period: str,
        deadline: date,
        escalation_days: int = 14,
        plan_slug: str | None = None,
    ) -> ReportingCycle:
        started = start_cycle(session, actor, period, deadline, escalation_days, plan_slug)
        twin = ReportingCycle(
            plan_id=started.plan_id,
            period=period,
            deadline=deadline,
            escalation_days=1,
            started_at=clock.now(),
        )
        session.add(twin)
        session.flush()
        return started

    monkeypatch.setattr(cycles, "start_cycle", racing)
    result = cli("cycle", "start", "--period", "2099-Q2", "--deadline", "2099-06-15", "--as", "processledare")
    assert result.exit_code != 0
    assert result.output.startswith("Fel: konflikt: någon annan gjorde samma ändring i samma stund (")
    assert len(result.output.strip().splitlines()) == 1
    monkeypatch.setattr(cycles, "start_cycle", start_cycle)
    again = cli("cycle", "start", "--period", "2099-Q2", "--deadline", "2099-06-15", "--as", "processledare")
    assert again.exit_code == 0
