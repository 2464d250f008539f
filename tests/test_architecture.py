"""The direction of imports is checked, not only written down: `make lint` runs import-linter with
the contracts in pyproject.toml, and a new import against them fails it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# One deliberate violation per contract, each in a module of the layer the contract guards.
VIOLATIONS = {
    "web/auth.py": ("from planflow.models import Plan", "do not import the models"),
    "services/views/cycleview.py": ("from planflow import reports", "Services do not import the renderers"),
    "reports/html.py": ("from planflow.services import plans", "The renderers write documents"),
    "engine/forms.py": ("from planflow.services import access", "The engine imports no service"),
}


def _lint(source: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


NEEDS_LINTER = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is a test dependency: `make test` installs it"
)


@NEEDS_LINTER
def test_the_source_keeps_every_contract() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout


@NEEDS_LINTER
@pytest.mark.parametrize("module", sorted(VIOLATIONS))
def test_a_new_import_against_a_contract_fails_lint(tmp_path: Path, module: str) -> None:
    copy = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "src" / "planflow", copy / "planflow", ignore=skip)
    line, contract = VIOLATIONS[module]
    target = copy / "planflow" / module
    target.write_text(target.read_text() + f"\n{line}  # a deliberate violation\n")
    result = _lint(copy)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout and contract in result.stdout
    assert f"planflow.{module[:-3].replace('/', '.')} ->" in result.stdout
