"""The archive package verifies from its files and a public key alone, in another process with no
database; it refuses an edited data file even with a recomputed (and re-signed) manifest, a
dropped tail, a removed file, an edited README, a record edited in the database before export;
and a malformed or huge package is refused in one line, in bounded memory."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text, update

from planflow import audit_keys, clock
from planflow.db import Database
from planflow.models import Notice
from planflow.services.authority import people
from planflow.services.chain import annual, proposals
from planflow.services.outputs.archive import layout
from planflow.services.records.audit import Actor

from ..conftest import Cli
from ..services.chain import Chain
from .year import decide

PLANFLOW = str(Path(sys.executable).parent / "planflow")
RATIONALE = "Rimlig åtgärd, följs upp i Q1."


def _history(db: Database) -> None:
    """A cycle with a yellow report decided by the steering group, and a proposal approved."""
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(db)
    chain.start_cycle("2026-Q4", date(2026, 12, 15))
    chain.report_and_accept("1.1.1", "yellow", "Färre besök än planerat.")
    decide(chain, "1.1.1", "approve", RATIONALE)
    proposal = {
        "title": "Lokalguide för nyetablerade företag",
        "intervention_area": "3.4",
        "owner": "johan.ek",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Efterfrågat i Näringslivsrådet.",
    }
    with db.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, "lead3"), proposal)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Stärker etableringen."})
    with db.transaction() as session:  # as the sender marks a mail it handed to the server
        session.execute(update(Notice).where(Notice.id == 1).values(sent_at=clock.now()))


def _export(cli: Cli, tmp_path: Path, name: str) -> Path:
    issued = cli(
        "report", "steering", "--period", "2026-Q4", "--out", str(tmp_path / "q4.pdf"), "--issue",
        "--as", "processledare",
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    target = tmp_path / name
    exported = cli("archive", "export", "--out", str(target))
    assert exported.exit_code == 0, exported.output
    return target


@pytest.fixture
def package(cli: Cli, seeded: Database, tmp_path: Path) -> Path:
    """An exported package, as a folder."""
    _history(seeded)
    return _export(cli, tmp_path, "package")


def _verify(
    *args: str, database: str = "sqlite:////nonexistent/folder/db.sqlite3"
) -> subprocess.CompletedProcess[str]:
    """`planflow archive verify` in a process of its own, with no database and no key of its own."""
    env = {
        "PLANFLOW_DATABASE_URL": database,
        "PLANFLOW_INSTANCE_PATH": "/nonexistent/instance",
        "PATH": "/usr/bin",
    }
    return subprocess.run(
        [PLANFLOW, "--language", "en", "archive", "verify", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def _refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and words in result.stderr, result.stderr


def _resign(folder: Path, instance: Path, changed: list[str]) -> None:
    """What only the key's holder can do: recompute the manifest for `changed` files and sign it."""
    manifest_path = folder / layout.MANIFEST
    manifest = json.loads(manifest_path.read_bytes())
    for path in changed:
        manifest["files"][path] = hashlib.sha256((folder / path).read_bytes()).hexdigest()
    manifest_path.write_bytes(layout.json_bytes(manifest))
    signer = audit_keys.load_signing_key(None, instance)
    (folder / layout.SIGNATURE).write_bytes(signer.sign(manifest_path.read_bytes()))


def _rewrite(folder: Path, path: str, edit: object) -> None:
    """Rewrite a JSON list file of the package, one element per line, after `edit(elements)`."""
    elements = json.loads((folder / path).read_bytes())
    edit(elements)  # type: ignore[operator]
    (folder / path).write_bytes(layout.json_lines(elements))


def test_an_untouched_package_verifies_in_another_process_with_only_the_public_key(
    package: Path, tmp_path: Path, database_url: str
) -> None:
    published = tmp_path / "published.pem"
    shutil.copy(package / layout.PUBLIC_KEY, published)
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink()  # the database is gone
    result = _verify(str(package), "--public-key", str(published))
    assert result.returncode == 0, result.stderr
    assert "2 signed checkpoint(s)" in result.stdout and "1 issued report(s)" in result.stdout
    # someone else's client: OpenSSL checks the manifest's signature with the published key
    openssl = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(published), "-rawin",
         "-in", str(package / layout.MANIFEST), "-sigfile", str(package / layout.SIGNATURE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert openssl.returncode == 0 and "Signature Verified Successfully" in openssl.stdout, openssl.stderr


def test_a_zip_package_verifies_and_another_key_is_refused(
    cli: Cli, seeded: Database, tmp_path: Path
) -> None:
    _history(seeded)
    target = _export(cli, tmp_path, "package.zip")
    with zipfile.ZipFile(target) as archive:
        roots = {name.partition("/")[0] for name in archive.namelist()}
        assert len(roots) == 1 and f"{roots.pop()}/METS.xml" in archive.namelist()
    assert _verify(str(target)).returncode == 0
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    _refused(_verify(str(target), "--public-key", str(other)), "the manifest's signature does not hold")


def test_an_edited_decision_with_a_recomputed_manifest_is_refused(package: Path, tmp_path: Path) -> None:
    decisions = layout.table_json("decisions")

    def soften(rows: list[dict[str, object]]) -> None:
        assert rows[0]["rationale"] == RATIONALE
        rows[0]["rationale"] = "Ingen åtgärd behövs."

    _rewrite(package, decisions, soften)
    manifest = json.loads((package / layout.MANIFEST).read_bytes())
    manifest["files"][decisions] = hashlib.sha256((package / decisions).read_bytes()).hexdigest()
    (package / layout.MANIFEST).write_bytes(layout.json_bytes(manifest))
    _refused(_verify(str(package)), "the manifest's signature does not hold")
    # even the key's holder cannot make the rows say other than the signed events
    _resign(package, tmp_path / "instance", [decisions])
    _refused(
        _verify(str(package)), "decisions: decision 1 (deviation 1 #1): rationale is 'Ingen åtgärd behövs.'"
    )


def test_an_edited_csv_with_a_resigned_manifest_is_refused(package: Path, tmp_path: Path) -> None:
    path = layout.table_csv("decisions")
    (package / path).write_bytes((package / path).read_bytes().replace(RATIONALE.encode(), b"Inget."))
    _resign(package, tmp_path / "instance", [path])
    _refused(_verify(str(package)), "decisions.csv does not say what")


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE decision SET rationale = 'Ändrad i efterhand.'",
         "decisions: decision 1 (deviation 1 #1): rationale is 'Ändrad i efterhand.'; its audit events say"),
        ("UPDATE status_report SET comment = 'Ändrad.' WHERE status = 'YELLOW' OR status = 'yellow'",
         ": comment is 'Ändrad.'; its audit events say"),
        ("UPDATE deviation SET recommendation = 'Ingen.'",
         "deviations: deviation 1: recommendation is 'Ingen.'"),
        ("UPDATE activity_proposal SET why = 'Ändrad.'", "proposals: proposal 1: why is 'Ändrad.'"),
        ("DELETE FROM decision WHERE subject_type = 'proposal'",
         "decisions: decision proposal 1 #1: its audit events say it was made; it is not there"),
    ],
)  # fmt: skip
def test_a_record_edited_in_the_database_before_export_is_refused(
    cli: Cli, seeded: Database, tmp_path: Path, statement: str, problem: str
) -> None:
    _history(seeded)
    with seeded.transaction() as session:
        assert session.execute(text(statement)).rowcount >= 1  # type: ignore[attr-defined]
    _refused(_verify(str(_export(cli, tmp_path, "package"))), problem)


def test_an_annual_report_edited_in_the_database_before_export_is_refused(
    cli: Cli, seeded: Database, tmp_path: Path
) -> None:
    """The year's report compiled, approved by the steering group and noted by the board; then its
    paragraph in the board's minutes is changed past the use cases."""
    _history(seeded)
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain = Chain(seeded)
    chain.do("processledare", "compile_annual_report", {"summary": "I stort enligt plan."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    chain.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2026-12-10", "paragraph": "§ 12"}
    )
    with seeded.transaction() as session:
        session.execute(text("UPDATE annual_report SET board_paragraph = '§ 99'"))
    _refused(
        _verify(str(_export(cli, tmp_path, "package"))),
        "annual_reports: annual_report 1: board_paragraph is '§ 99'; its audit events say '§ 12'",
    )


def test_an_issued_report_changed_with_its_hash_is_refused(package: Path, tmp_path: Path) -> None:
    report = next((package / layout.DATA / "reports").glob("*.pdf"))
    report.write_bytes(report.read_bytes().replace(b"2026-Q4", b"2027-Q1"))
    digest = hashlib.sha256(report.read_bytes()).hexdigest()

    def rehash(reports: list[dict[str, dict[str, dict[str, str]]]]) -> None:
        reports[0]["files"]["pdf"]["sha256"] = digest

    _rewrite(package, layout.ISSUED, rehash)
    _resign(package, tmp_path / "instance", [layout.ISSUED, report.relative_to(package).as_posix()])
    refused = _verify(str(package))
    _refused(refused, "issued_reports: issued_report 1: files is '")
    assert f'"pdf":"{digest}"}}\'; its audit events say' in refused.stderr


def test_a_dropped_tail_is_refused(package: Path, tmp_path: Path) -> None:
    events = json.loads((package / layout.EVENTS).read_bytes())
    kept = events[:-1]  # report.issued: the issue's own checkpoint is the event before it
    (package / layout.EVENTS).write_bytes(layout.json_lines(kept))
    (package / layout.HEAD).write_bytes(layout.json_bytes({"seq": kept[-1]["seq"], "hash": kept[-1]["hash"]}))
    _resign(package, tmp_path / "instance", [layout.EVENTS, layout.HEAD])
    _refused(_verify(str(package)), f"event {events[-1]['seq']} is gone, yet a checkpoint anchors it")
    # the checkpoints dropped too: the export's own checkpoint, in the signed manifest, still tells
    _rewrite(package, layout.CHECKPOINTS, lambda signed: signed.pop())
    _resign(package, tmp_path / "instance", [layout.CHECKPOINTS])
    _refused(_verify(str(package)), "events.csv does not say what")
    events_csv = package / layout.DATA / "audit/events.csv"
    lines = events_csv.read_bytes().splitlines(keepends=True)
    events_csv.write_bytes(b"".join(lines[:-1]))
    _resign(package, tmp_path / "instance", [events_csv.relative_to(package).as_posix()])
    _refused(_verify(str(package)), f"the export was signed at event {events[-1]['seq']}")


def test_a_removed_file_or_an_edited_readme_is_refused(package: Path) -> None:
    readme = package / layout.README
    written = readme.read_bytes()
    assert written.startswith(b"# planflow-arkiv")
    readme.write_bytes(written + "\nTillägg.\n".encode())
    _refused(_verify(str(package)), "documentation/README.md does not match its SHA-256")
    readme.write_bytes(written)
    (package / layout.table_csv("mails")).unlink()
    _refused(_verify(str(package)), "mails.csv is missing")


def test_a_malformed_package_is_refused_in_one_line(package: Path, tmp_path: Path) -> None:
    events = package / layout.EVENTS
    original = events.read_bytes()
    events.write_bytes(b"[\n" + b"[" * 200_000 + b"]" * 200_000 + b"\n]\n")
    _resign(package, tmp_path / "instance", [layout.EVENTS])
    _refused(_verify(str(package)), "nested deeper than 64 levels")
    events.write_bytes(original)
    _resign(package, tmp_path / "instance", [layout.EVENTS])
    assert _verify(str(package)).returncode == 0

    (package / layout.MANIFEST).write_bytes(b"[]")
    _refused(_verify(str(package)), "manifest.json is not a JSON object")
    (package / layout.MANIFEST).unlink()
    _refused(_verify(str(package)), "this is not a planflow archive package")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"nope")
    _refused(_verify(str(garbage)), "is not a zip file")


def test_a_700_mb_member_is_hashed_in_bounded_memory(cli: Cli, seeded: Database, tmp_path: Path) -> None:
    """A small zip whose report claims 700 MB of zeros: streamed through SHA-256, refused, and the
    verifying process never holds it (peak memory measured in a process of its own)."""
    _history(seeded)
    source = _export(cli, tmp_path, "package.zip")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for info in original.infolist():
            if info.filename.endswith(".pdf"):
                with target.open(info.filename, "w", force_zip64=True) as member:
                    zeros = bytes(1 << 20)
                    for _ in range(700):
                        member.write(zeros)
            else:
                target.writestr(info, original.read(info))
    assert bomb.stat().st_size < 5_000_000
    measure = (
        "import resource, subprocess, sys;"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.stderr.strip())"
    )
    run = [PLANFLOW, "--language", "en", "archive", "verify", str(bomb)]
    out = subprocess.run([sys.executable, "-c", measure, *run], capture_output=True, text=True, check=True)
    code, peak_kb, said = out.stdout.split(" ", 2)
    assert code == "1" and ".pdf does not match its SHA-256" in said, out.stdout
    assert int(peak_kb) < 200 * 1024, f"peak {int(peak_kb) // 1024} MB"


def test_the_codebook_describes_every_column_and_event_kind(package: Path) -> None:
    from planflow.i18n import keys
    from planflow.services.outputs.archive import codebook, export

    readme = (package / layout.README).read_text(encoding="utf-8")
    for table in export.TABLES:
        assert list(codebook.COLUMNS[table.name]) == list(table.columns), table.name
        header = (package / layout.table_csv(table.name)).read_text(encoding="utf-8-sig").splitlines()[0]
        assert header.split(";") == list(table.columns)
    assert list(codebook.COLUMNS["events"]) == list(export.EVENT_COLUMNS)
    for key in keys("audit.action."):
        assert f"| {key.removeprefix('audit.action.')} |" in readme
    mails = json.loads((package / layout.table_json("mails")).read_bytes())
    assert [m["id"] for m in mails] == [1] and mails[0]["subject"]
