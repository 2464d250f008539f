"""/audit.csv: every event the filters find, streamed in short batches, as Swedish Excel opens it
(semicolons, UTF-8 with a BOM) and with no cell a spreadsheet runs, read by Python's csv module
and by LibreOffice Calc."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from planflow.db import Database
from planflow.models import AuditEvent
from planflow.services.records import audit, trail
from planflow.services.records.audit import OPERATOR_ACTOR

from ..spreadsheets import calc_cells, excel_rows, formulas

ATTACKS = ('=HYPERLINK("http://evil.example";"klicka")', "\t=1+1", "\r=1+1", "@SUM(1)", "-2+3", "+46")


def test_the_audit_csv_opens_in_swedish_excel_and_runs_no_formula(
    signed_in: Callable[[str], FlaskClient], web: Database, tmp_path: Path
) -> None:
    with web.transaction() as session:
        for reason in ATTACKS:
            audit.record(session, OPERATOR_ACTOR, "plan.imported", "plan", "återbruk", {}, reason=reason)
    data = signed_in("processledare").get("/audit.csv?action=plan.imported").get_data()
    rows = excel_rows(data)
    assert rows[0][:3] == ["seq", "occurred_at", "actor"] and len(rows[0]) == 11
    assert {r[7] for r in rows[1:]} == {"plan"} and {r[8] for r in rows[1:]} == {"återbruk"}
    assert sorted(r[9] for r in rows[1:]) == sorted("'" + reason for reason in ATTACKS)
    cells = calc_cells(data, tmp_path / "calc")
    assert formulas(cells) == []
    reasons = {str(row[9][0]) for row in cells[1:]}
    # shown as typed behind the apostrophe (Calc keeps a line break in a cell as LF)
    assert reasons == {"'" + reason.replace("\r", "\n") for reason in ATTACKS}


def test_the_audit_csv_streams_every_event_in_short_batches(
    signed_in: Callable[[str], FlaskClient], web: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trail, "EXPORT_BATCH", 3)
    opened = []
    reading = web.reading

    @contextmanager
    def counted() -> Iterator[Session]:
        with reading() as session:
            opened.append(session)
            yield session

    monkeypatch.setattr(web, "reading", counted)
    with reading() as session:
        everything = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())))
    assert len(everything) > 3 * 5  # enough for several batches

    client = signed_in("processledare")
    opened.clear()
    response = client.get("/audit.csv")
    assert response.is_streamed
    rows = excel_rows(response.get_data())
    assert [int(r[0]) for r in rows[1:]] == everything  # all of them, newest first, none twice
    # one short reading per batch (and the sign-in's own reads): none holds all of them
    assert len(everything) // 3 <= len(opened) <= len(everything) // 3 + 4
