"""One language per run: everything the `planflow` command says, its output and its errors, is worded
from the catalogs in the configured language or the one `planflow --language` names; JSON stays data.
And the command line is an entry point only: it reads through services, never the models."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from planflow import cli as command_line
from planflow import i18n
from planflow.cli import jobs, scheduler

from .conftest import Cli
from .test_cli_errors import planflow

CLI = Path(command_line.__file__).resolve().parent


def _add_eva(cli: Cli) -> None:
    assert cli("init").exit_code == 0
    assert cli("users", "add", "eva", "--name", "Eva Ek", "--email", "eva@example.org").exit_code == 0


def test_a_run_speaks_swedish_by_default_in_its_output_and_its_errors(cli: Cli) -> None:
    _add_eva(cli)
    granted = cli("users", "grant", "eva", "focus_area_lead:2")
    assert granted.output == "eva har fått rollen focus_area_lead:2.\n"
    refused = cli("users", "grant", "eva", "king")
    assert refused.exit_code == 1 and refused.output.startswith("Fel: Okänd roll ”king”")
    verified = cli("audit", "verify")
    assert verified.output.startswith("Granskningskedjan är hel: ")
    assert "händelse(r); ingen signerad kontrollpunkt förankrar den" in verified.output
    bad_day = cli("cycle", "start", "--period", "2099-Q1", "--deadline", "2099-02-30", "--as", "eva")
    assert bad_day.exit_code == 2 and bad_day.output == (
        "Fel: Ogiltigt värde för '--deadline': '2099-02-30' är inte ett datum som finns i kalendern"
        " (se `planflow cycle start --help`)\n"
    )


def test_language_en_words_the_same_run_in_english(cli: Cli) -> None:
    _add_eva(cli)
    granted = cli("--language", "en", "users", "grant", "eva", "focus_area_lead:2")
    assert granted.output == "eva: focus_area_lead:2 granted.\n"
    refused = cli("--language", "en", "users", "grant", "eva", "king")
    assert refused.exit_code == 1 and refused.output.startswith("Error: Unknown role “king”")
    verified = cli("--language", "en", "audit", "verify")
    assert verified.output.startswith("Audit chain intact: ")
    assert "event(s); not anchored by any signed checkpoint" in verified.output
    bad_day = cli(
        "--language", "en", "cycle", "start", "--period", "2099-Q1", "--deadline", "2099-02-30", "--as", "eva"
    )
    assert bad_day.exit_code == 2 and bad_day.output == (
        "Error: Invalid value for '--deadline': '2099-02-30' is not a date in the calendar"
        " (see `planflow cycle start --help`)\n"
    )


def test_json_output_is_the_same_data_in_every_language(cli: Cli) -> None:
    _add_eva(cli)
    swedish = cli("users", "list", "--json").output
    assert json.loads(swedish) and cli("--language", "en", "users", "list", "--json").output == swedish
    # usernames, names and the roles as `users grant` takes them: no words to translate
    assert cli("users", "list").output == cli("--language", "en", "users", "list").output


@pytest.fixture
def english(tmp_path: Path) -> dict[str, str]:
    """Settings for a database never initialised, with English as the configured language."""
    return {
        "PLANFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLANFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'planflow.sqlite3'}",
        "PLANFLOW_DEFAULT_LANGUAGE": "en",
    }


def test_the_configured_language_is_the_default_and_the_option_overrides_it(english: dict[str, str]) -> None:
    said = planflow(english, "users", "list")
    assert said.returncode == 1 and said.stderr.startswith("Error: the database at sqlite:///")
    assert said.stderr.rstrip().endswith("is not initialised: run `planflow init`")
    swedish = planflow(english, "--language", "sv", "users", "list")
    assert swedish.returncode == 1 and swedish.stderr.startswith("Fel: databasen på sqlite:///")
    assert swedish.stderr.rstrip().endswith("är inte initierad: kör `planflow init`")
    unknown = planflow(english, "--language", "fi", "users", "list")
    assert unknown.returncode == 2 and "'fi' is not one of 'sv', 'en'" in unknown.stderr


def _keys_said_literally() -> set[str]:
    """Every whole catalog key written out in the CLI package (an f-string's "cli.job." is a prefix,
    not a key: those are made at run time)."""
    keys = set()
    for path in CLI.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"cli(\.[a-z0-9_]+)+", node.value):
                    keys.add(node.value)
    return keys


def test_every_line_the_command_says_is_in_both_catalogs_and_every_cli_key_is_said() -> None:
    made_at_run_time = (
        {f"cli.job.{name}" for name in jobs.COUNTED}
        | {f"cli.scheduler.outcome.{outcome}" for outcome in scheduler.OUTCOMES}
        | {f"cli.users.mail.{delivery}" for delivery in ("digest", "immediate", "off")}
        | {f"cli.report.kind.{kind}" for kind in ("steering", "annual")}
        | {f"cli.audit.label.{name}" for name in ("hash", "key", "signature")}
        | {f"cli.report.label.{name}" for name in ("sha256", "checkpoint")}
    )
    said = _keys_said_literally() | made_at_run_time
    assert len(said) > 80
    catalog = set(i18n.keys("cli."))  # the Swedish catalog; test_i18n checks English has the same keys
    assert said - catalog == set()
    assert catalog - said == set(), "a cli.* key nothing says"
    for language in i18n.LANGUAGES:
        assert [key for key in said if i18n.text(language, key) == key] == [], language


def _imports(source: str) -> set[str]:
    """What a module of the planflow.cli package imports (modules and names), relative imports
    resolved."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            package = ["planflow", "cli"]
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_the_command_line_imports_no_models_and_writes_no_sql() -> None:
    """The command line parses, calls a service and renders: no planflow.models, and of SQLAlchemy
    only the Session type and the errors it words. The import-linter contract in `make lint` holds
    the first for every front end; the second is the command line's own: no select(), no SQL."""
    modules = sorted(CLI.glob("*.py"))
    assert {p.stem for p in modules} >= {"__init__", "base", "users", "audit", "scheduler", "report"}
    for path in modules:
        imported = _imports(path.read_text(encoding="utf-8"))
        assert not {m for m in imported if m.startswith("planflow.models")}, path.name
        sql = {m for m in imported if m.startswith("sqlalchemy")}
        assert sql <= {"sqlalchemy.orm", "sqlalchemy.orm.Session", "sqlalchemy.exc"} | {
            f"sqlalchemy.exc.{name}" for name in ("DBAPIError", "IntegrityError", "OperationalError")
        }, path.name
    # the walk sees each way of writing it
    for line in ("from ..models import User", "from .. import models", "import planflow.models.people"):
        assert {m for m in _imports(line) if m.startswith("planflow.models")}, line


def test_the_old_modules_are_gone_and_the_installed_command_runs_the_package(english: dict[str, str]) -> None:
    assert not (CLI.parent / "cli.py").exists() and not (CLI.parent / "cli_reports.py").exists()
    shown = planflow(english, "--help")
    assert shown.returncode == 0 and "--language [sv|en]" in shown.stdout
