"""The README's commands work when copied: `make run` and the examples share one instance folder."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from click.testing import CliRunner

from planflow.cli import main

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
