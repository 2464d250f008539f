"""The README's commands work when copied: `make run` and the examples share one instance folder,
and run as written, in order, on a fresh instance the day the README's walk is written for; what it
says a fresh `make run` shows (the first page, the open cycle, the annual report) is so."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from planflow import clock
from planflow.cli import main
from planflow.db import Database
from planflow.scheduling import Context, load_schedule, run_job

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_uses_the_commands_default_instance_folder() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert ".venv/bin/planflow init --demo" in dry_run
    assert "PLANFLOW_INSTANCE_PATH" not in dry_run


def test_readme_examples_name_the_installed_command_and_existing_subcommands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"^(?:\S*/)?planflow .*$", readme, flags=re.MULTILINE)
    assert len(examples) >= 8
    for line in examples:
        words = shlex.split(line, comments=True)
        assert words[0] == ".venv/bin/planflow", line
        result = CliRunner().invoke(main, [*words[1:], "--help"])
        assert result.exit_code == 0, (line, result.output)


# The day the README's walk is written for: a `make run` in December 2026 (issue 18 walked it on
# the 5th). The demo's timelines are laid around the day `init --demo` runs, as on a real instance.
WALKED = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
# Words in a README command that stand for something the reader fills in, and the commands that run
# until stopped (they are `make run` itself, or a production process).
PLACEHOLDERS = re.compile(r"\b[A-Z]{3,}\b|\[|…")
LONG_RUNNING = (["serve"], ["scheduler"])


def _readme_commands() -> list[list[str]]:
    """Every `planflow` command the README shows at the start of a line, in the README's order,
    as the words after `.venv/bin/planflow`; those with placeholders or that run until stopped
    are left out."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for line in re.findall(r"^\.venv/bin/planflow .*$", readme, flags=re.MULTILINE):
        words = shlex.split(line, comments=True)[1:]
        if PLACEHOLDERS.search(" ".join(words)) or words in LONG_RUNNING:
            continue
        commands.append(words)
    return commands


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A fresh instance as `make run` makes it, on the README's day, in a folder of its own (the
    commands write their files to the current directory): `planflow init --demo`, then what its
    scheduler does as it starts (the jobs marked `at_start`)."""
    monkeypatch.chdir(tmp_path)
    clock.set_now(WALKED)
    runner = CliRunner(env={"PLANFLOW_INSTANCE_PATH": str(tmp_path / "instance")})
    init = runner.invoke(main, ["init", "--demo"], catch_exceptions=False)
    assert init.exit_code == 0, init.output
    database = Database(f"sqlite:///{tmp_path / 'instance' / 'planflow.sqlite3'}")
    try:
        schedule = load_schedule()
        ctx = Context(database, schedule, "Europe/Stockholm")
        for name, job in schedule.jobs.items():
            if job.get("at_start"):
                assert run_job(ctx, job["service"]).error is None, name
    finally:
        database.dispose()
    yield runner


def test_the_readme_says_what_a_fresh_make_run_has_done_by_itself(fresh: CliRunner) -> None:
    """The cycle the README says is open a moment after `make run` is, with the deadline it names;
    the annual report it says waits in the process leader's inbox does; the first page is the plan."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = fresh.invoke(main, ["cycle", "list"]).output.strip()
    assert listed == "2026-Q4  pågår, sista dag 2026-12-23"
    assert "the cycle 2026-Q4 is open" in readme and "by 23 December" in readme
    refused = fresh.invoke(main, ["annual-report", "start", "--year", "2026", "--as", "processledare"])
    assert refused.exit_code != 0 and "redan påbörjad" in refused.output
    assert "the annual report 2026 waits in `processledare`'s inbox" in readme
    started = fresh.invoke(
        main, ["cycle", "start", "--period", "2026-Q4", "--deadline", "2026-12-15", "--as", "processledare"]
    )
    assert started.exit_code != 0
    assert "finns redan" in started.output and "pågår, sista dag 2026-12-23" in started.output
    assert "avbryt" in started.output  # and what to do


def test_the_readmes_commands_run_as_written_on_a_fresh_instance(fresh: CliRunner) -> None:
    commands = _readme_commands()
    walk = [words[1] for words in commands[:3]]
    assert walk == ["list", "cancel", "start"]  # see the scheduler's cycle, cancel it, start your own
    failed = []
    for words in commands:
        result = fresh.invoke(main, words)
        if result.exit_code != 0:
            failed.append((" ".join(words), result.output.strip()[-300:]))
    assert failed == [], "\n".join(map(str, failed))


def test_the_first_page_the_readme_names_is_the_plan_to_a_visitor(app: Flask, seeded: Database) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "The first page, http://127.0.0.1:5000/, is the action plan" in readme
    page = app.test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Utvecklingskraft i Södertälje" in html and 'href="/login"' in html
    assert "24 intervention areas" in readme and html.count("<h3>") == 24
