"""The archive verifies from its files alone: the manifest, the audit chain (recomputed with the
same hash function), the signed checkpoints with the included public key, the issued reports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from planflow import clock

from ..conftest import Cli


def _archive(cli: Cli, tmp_path: Path, name: str) -> Path:
    assert cli("init", "--demo").exit_code == 0
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    assert (
        cli(
            "cycle",
            "start",
            "--period",
            "2026-Q4",
            "--deadline",
            str(date(2026, 12, 15)),
            "--as",
            "processledare",
        ).exit_code
        == 0
    )
    out = tmp_path / "q4.pdf"
    issued = cli(
        "report", "steering", "--period", "2026-Q4", "--out", str(out), "--issue", "--as", "processledare"
    )
    assert issued.exit_code == 0, issued.output
    target = tmp_path / name
    exported = cli("archive", "export", "--out", str(target))
    assert exported.exit_code == 0, exported.output
    return target


def test_a_zip_archive_verifies_without_the_database(cli: Cli, tmp_path: Path) -> None:
    target = _archive(cli, tmp_path, "archive.zip")
    result = cli("archive", "verify", str(target))
    assert result.exit_code == 0, result.output
    assert "1 signerad(e) kontrollpunkt(er)" in result.output and "1 utfärdad(e) rapport(er)" in result.output
    # verify needs no database at all
    other = Cli("sqlite:////nonexistent/folder/db.sqlite3", tmp_path / "elsewhere")
    assert other("archive", "verify", str(target)).exit_code == 0


def test_a_changed_event_or_report_in_the_archive_is_caught(cli: Cli, tmp_path: Path) -> None:
    folder = _archive(cli, tmp_path, "archive")
    assert (folder / "README.md").read_text(encoding="utf-8").startswith("# planflow archive")
    assert cli("archive", "verify", str(folder)).exit_code == 0

    events_path = folder / "audit" / "events.json"
    events = json.loads(events_path.read_text(encoding="utf-8"))
    events[2]["actor"] = "mallory"
    events_path.write_text(
        json.dumps(events, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    result = cli("--language", "en", "archive", "verify", str(folder))  # the archive's words: English
    assert result.exit_code == 1 and "audit/events.json does not match" in result.output

    # rewrite the manifest too: now the chain itself tells
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    import hashlib

    manifest["files"]["audit/events.json"] = hashlib.sha256(events_path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    result = cli("--language", "en", "archive", "verify", str(folder))
    assert result.exit_code == 1 and "event 3 was changed after it was written" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_archive_checked_with_another_key_fails(cli: Cli, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    target = _archive(cli, tmp_path, "archive.zip")
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = cli("--language", "en", "archive", "verify", str(target), "--public-key", str(other))
    assert result.exit_code == 1 and "signed by another key" in result.output
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"nope")
    refused = cli("archive", "verify", str(garbage))
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
