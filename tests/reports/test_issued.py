"""Issued reports are frozen: content and files with their SHA-256, audited, anchored by a signed
checkpoint, the same bytes on every download, unchanged by later changes to the plan."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from planflow import clock, reports
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.models import Activity, IssuedReportFile
from planflow.services.authority import people
from planflow.services.errors import Conflict, Forbidden
from planflow.services.outputs import issued
from planflow.services.plan import plans
from planflow.services.records import audit, checkpoints
from planflow.services.records.audit import Actor

from ..conftest import Cli
from ..services.chain import Chain
from .conftest import pdf_text
from .pdfa import pdf_a_problems


@pytest.fixture
def signer() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return SigningKey(Ed25519PrivateKey.generate())


@pytest.fixture
def cycle(seeded: Database) -> Chain:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle("2026-Q4", date(2026, 12, 15))
    chain.report_and_accept("1.1.1", "yellow", cause="Färre besök än planerat.")
    return chain


def _issue(db: Database, signer: SigningKey, username: str = "processledare", kind: str = "steering") -> int:
    with db.transaction() as session:
        subject = "2026-Q4" if kind == "steering" else "2026"
        report = issued.issue_report(
            session, Actor(people.get_user(session, username)), signer, kind, subject, render=reports.render
        )
        return report.id


def test_an_issued_report_does_not_change_when_the_plan_does(cycle: Chain, signer: SigningKey) -> None:
    db = cycle.db
    report_id = _issue(db, signer)
    with db.reading() as session:
        first = issued.issued_file(session, report_id, "pdf")
        html = issued.issued_file(session, report_id, "html")
        head = checkpoints.latest(session)
        assert head is not None
        seq, head_hash = head.seq, head.hash
        (event,) = audit.events(session, action="report.issued")
        assert (
            event.actor == "processledare"
            and event.data["files"]["pdf"] == hashlib.sha256(first.data).hexdigest()
        )
        assert event.data["checkpoint"] == {"seq": seq, "hash": head_hash}
    text = pdf_text(first.data)
    assert f"händelse {seq}, SHA-256 {head_hash}" in text and "Utfärdad" in text
    assert pdf_a_problems(first.data) == []  # the file the archive keeps is PDF/A-2
    assert "Företagsbesök politiker" in text

    with db.transaction() as session:  # the plan changes afterwards
        session.execute(
            update(Activity).where(Activity.code == "1.1.1").values(title="Nytt namn på aktiviteten")
        )
    cycle.report_and_accept("1.1.2", "red", cause="Ingen budget.")

    with db.reading() as session:
        again = issued.issued_file(session, report_id, "pdf")
        assert again.data == first.data and issued.issued_file(session, report_id, "html").data == html.data
    assert "Nytt namn på aktiviteten" not in pdf_text(again.data)
    second = _issue(db, signer)  # a new issue shows the change, and is number 2
    with db.reading() as session:
        newer = issued.issued_file(session, second, "pdf")
        assert [r.number for r in issued.list_issued(session, plans.get_plan(session))] == [2, 1]
    assert "Nytt namn på aktiviteten" in pdf_text(newer.data) and newer.name.endswith("-2026-Q4-2.pdf")


def test_only_the_process_leader_or_an_admin_issues(cycle: Chain, signer: SigningKey) -> None:
    for username in ("anna.nilsson", "lead1", "ordforande", "kommunstyrelsen"):
        with pytest.raises(Forbidden) as refused:
            _issue(cycle.db, signer, username)
        assert refused.value.code == "error.access.use_case"
    assert _issue(cycle.db, signer, "admin")


def test_a_tampered_issued_file_is_refused(cycle: Chain, signer: SigningKey) -> None:
    report_id = _issue(cycle.db, signer)
    with cycle.db.transaction() as session:
        session.execute(
            update(IssuedReportFile)
            .where(IssuedReportFile.report_id == report_id, IssuedReportFile.format == "pdf")
            .values(data=b"%PDF-1.4 forged")
        )
    with cycle.db.reading() as session, pytest.raises(Conflict) as refused:
        issued.issued_file(session, report_id, "pdf")
    assert refused.value.code == "error.report.tampered"


def test_cli_issues_and_downloads_byte_for_byte(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", "--demo").exit_code == 0
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    started = cli(
        "cycle", "start", "--period", "2026-Q4", "--deadline", "2026-12-15", "--as", "processledare"
    )
    assert started.exit_code == 0, started.output
    out = tmp_path / "q4.pdf"
    refused = cli(
        "report", "steering", "--period", "2026-Q4", "--out", str(out), "--issue", "--as", "anna.nilsson"
    )
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    done = cli(
        "report", "steering", "--period", "2026-Q4", "--out", str(out), "--issue", "--as", "processledare"
    )
    assert done.exit_code == 0, done.output
    assert "Utfärdad: styrgruppsrapport 2026-Q4 nr 1" in done.output and "kontrollpunkt" in done.output
    copy = tmp_path / "copy.pdf"
    assert cli("report", "download", "1", "--format", "pdf", "--out", str(copy)).exit_code == 0
    assert copy.read_bytes() == out.read_bytes()
    html = tmp_path / "q4.html"
    assert (
        cli("report", "steering", "--period", "2026-Q4", "--format", "html", "--out", str(html)).exit_code
        == 0
    )
    assert "inte utfärdad" in html.read_text(encoding="utf-8")
    word = tmp_path / "2026.docx"
    assert cli("report", "annual", "--year", "2026", "--format", "docx", "--out", str(word)).exit_code == 0
    assert word.read_bytes()[:2] == b"PK"
    listed = cli("report", "issued")
    assert "steering  2026-Q4" in listed.output
    wrong = cli("report", "steering", "--period", "2026-Q9", "--out", str(tmp_path / "x.pdf"))
    assert wrong.exit_code == 1 and "2026-Q9" in wrong.output and len(wrong.output.strip().splitlines()) == 1


def test_the_list_of_issued_reports_names_who_issued_each_by_name(cycle: Chain, signer: SigningKey) -> None:
    _issue(cycle.db, signer)
    with cycle.db.reading() as session:
        (listed,) = issued.list_issued(session, plans.get_plan(session))
    assert listed.issued_by == "processledare"  # the record's, and the API's, username
    assert listed.issued_by_name is not None and listed.issued_by_name.startswith("Processledaren")
