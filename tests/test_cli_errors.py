"""What a new user meets when something is wrong: the installed `planflow` command, run as a
process, says what is at fault in one line on stderr and exits non-zero, without a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planflow import resources

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
    assert lines[0].startswith("Error: ")
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
    assert "'--at': '0001-01-01T00:00+01:00' is outside the years 2000 to 2200" in error


def test_an_impossible_deadline_is_not_a_date_in_the_calendar(env: dict[str, str]) -> None:
    error = one_line_error(planflow(env, "cycle", "start", "--period", "2099-Q1", "--deadline", "2099-02-30"))
    assert "'--deadline': '2099-02-30' is not a date in the calendar" in error


def test_zero_escalation_days_are_refused_not_taken_as_the_default(
    env: dict[str, str], initialised: Cli
) -> None:
    args = ("cycle", "start", "--period", "2099-Q1", "--deadline", "2099-03-15")
    error = one_line_error(planflow(env, *args, "--escalation-days", "0"))
    assert "escalation after 0 days: give 1 to 365 days" in error
    assert initialised(*args).exit_code == 0  # nothing was stored under 2099-Q1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b" " * (5 * 2**20 + 1), "plan file plan.json is larger than 5 MB"),
        (b"[" * 100_000, "plan file plan.json is nested too deeply to be a plan"),
        (None, "plan file plan.json: strategy_period: it ends (2016) before it starts (2022)"),
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
