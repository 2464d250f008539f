"""The wheel ships workflows/, templates/ and scheduler/, and the resolver finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_shipped_folders_and_resolver_finds_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("planflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("workflows", "templates", "scheduler"):
        shipped = [n for n in names if n.startswith(f"planflow/_shipped/{folder}/")]
        source = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert len(shipped) == len(source) > 0, folder
    assert "planflow/data/sodertalje_2016.json" in names
    assert any(n.startswith("planflow/migrations/versions/0001") for n in names)
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"):  # the PDFs' fonts and their licence
        assert f"planflow/reports/fonts/{font}" in names
    assert "planflow/reports/templates/report.docx" in names
    for schema in (
        "mets.xsd",
        "xlink.xsd",
        "DILCISExtensionMETS.xsd",
        "SOURCES.md",
    ):  # every archive carries them
        assert f"planflow/services/outputs/archive/schemas/{schema}" in names
    for language in ("sv", "en"):  # compiled by the build hook, though git ignores them
        assert f"planflow/translations/{language}/LC_MESSAGES/messages.mo" in names

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from planflow import i18n, resources; print(resources.folder('workflows'));"
            " print(i18n.text('en', 'status.red'))",
        ],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert found == [str(target / "planflow" / "_shipped" / "workflows"), "Red"]
