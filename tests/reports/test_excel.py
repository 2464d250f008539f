"""The plan in and out of Excel: export → import → export gives the same bytes; an edit is applied
and audited; one bad row changes nothing and is named with sheet, row and column; a foreign or
broken file is refused in one line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity
from planflow.services.errors import InvalidInput
from planflow.services.outputs import excel
from planflow.services.outputs.excel import ImportRefused
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR

from ..conftest import Cli
from ..workbooks import dimension_bomb, shared_string_bomb, with_cached_value, write_lock_held


def _export(db: Database) -> bytes:
    with db.reading() as session:
        return excel.export_xlsx(session)


def _import(db: Database, data: bytes) -> excel.ImportResult:
    workbook = excel.read_workbook(data, "plan.xlsx")
    with db.transaction() as session:
        return excel.import_xlsx(session, OPERATOR_ACTOR, workbook)


def _edit(data: bytes, edits: dict[tuple[str, str], object]) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for (sheet, cell), value in edits.items():
        workbook[sheet][cell] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _titles(db: Database) -> dict[str, str]:
    with db.reading() as session:
        return dict(session.execute(select(Activity.code, Activity.title)).all())


def test_export_names_statuses_in_words_with_their_colour(seeded: Database) -> None:
    with seeded.transaction() as session:
        activity = session.scalars(select(Activity).where(Activity.code == "1.1.2")).one()
        activity.status = "red"  # type: ignore[assignment]
    workbook = openpyxl.load_workbook(io.BytesIO(_export(seeded)), read_only=False)
    assert workbook.sheetnames == ["Sammanfattning", *(f"Fokusområde {n}" for n in range(1, 6))]
    sheet = workbook["Fokusområde 1"]
    assert [c.value for c in sheet[1]][:4] == ["Kod", "Insatsområde", "Aktivitet", "Ansvarig (användarnamn)"]
    assert (sheet["A3"].value, sheet["I3"].value) == ("1.1.2", "Röd")
    assert sheet["I3"].fill.fgColor.rgb.endswith("D3312C")
    assert sheet["I2"].value == "Ej rapporterad"
    assert workbook["Sammanfattning"]["B2"].value  # the plan's slug: the import checks it
    rows = sum(workbook[f"Fokusområde {n}"].max_row - 1 for n in range(1, 6))
    assert rows == 60


def test_export_import_export_gives_the_same_file(seeded: Database) -> None:
    first = _export(seeded)
    assert _import(seeded, first).changed == []
    assert _export(seeded) == first

    edited = _edit(first, {("Fokusområde 2", "C2"): "Ny rubrik", ("Fokusområde 2", "H2"): date(2027, 6, 30)})
    result = _import(seeded, edited)
    assert result.changed == ["2.1.1"] and result.rows == 60
    assert _titles(seeded)["2.1.1"] == "Ny rubrik"
    with seeded.reading() as session:
        (event,) = audit.events(session, action="activity.updated")
        assert event.actor == "operator" and event.data["changes"]["title"][1] == "Ny rubrik"
        assert event.data["changes"]["ends_on"][1] == "2027-06-30"
    again = _export(seeded)
    assert _import(seeded, again).changed == [] and _export(seeded) == again


def test_one_bad_row_changes_nothing_and_is_named(seeded: Database) -> None:
    before = _titles(seeded)
    edited = _edit(
        _export(seeded),
        {
            ("Fokusområde 1", "C2"): "Ändrad men ska inte sparas",
            ("Fokusområde 3", "D5"): "ingen.sadan",
            ("Fokusområde 3", "G6"): "snart",
            ("Fokusområde 4", "I2"): "Röd",
        },
    )
    with pytest.raises(ImportRefused) as refused:
        _import(seeded, edited)
    places = [(p.sheet, p.row, p.column) for p in refused.value.problems]
    assert places == [("Fokusområde 3", 5, "D"), ("Fokusområde 3", 6, "G"), ("Fokusområde 4", 2, "I")]
    text = refused.value.render("sv")
    assert "Fokusområde 3, rad 5, kolumn D: ingen aktiv användare heter ingen.sadan" in text
    assert "ingenting är ändrat" in text
    assert _titles(seeded) == before
    with seeded.reading() as session:
        assert audit.events(session, action="activity.updated") == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not a workbook at all", "är ingen Excel-arbetsbok"),
        (None, "är ingen plan från planflow"),
    ],
)
def test_a_foreign_or_broken_file_is_one_clear_line(
    cli: Cli, tmp_path: Path, content: bytes | None, says: str
) -> None:
    assert cli("init").exit_code == 0
    path = tmp_path / "other.xlsx"
    if content is None:  # someone else's workbook
        workbook = openpyxl.Workbook()
        workbook.active["A1"] = "Budget 2027"  # type: ignore[index]
        workbook.save(path)
    else:
        path.write_bytes(content)
    result = cli("plan", "import", str(path))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and says in result.output


def test_cli_round_trip_and_errors_by_row(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", "--demo").exit_code == 0
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert cli("plan", "export", "--format", "xlsx", "--out", str(first)).exit_code == 0
    imported = cli("plan", "import", str(first))
    assert imported.exit_code == 0 and "0 aktivitet(er) ändrade" in imported.output
    assert cli("plan", "export", "--format", "xlsx", "--out", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_edit(first.read_bytes(), {("Fokusområde 5", "A4"): "9.9.9"}))
    refused = cli("plan", "import", str(bad))
    assert refused.exit_code == 1
    assert "Fokusområde 5, rad 4, kolumn A" in refused.output
    missing_out = cli("plan", "export", "--format", "xlsx")
    assert missing_out.exit_code == 2 and "--out" in missing_out.output


def test_a_damaged_zip_is_refused() -> None:
    with pytest.raises(InvalidInput):
        excel.read_workbook(b"PK\x03\x04broken", "x.xlsx")


# The peak is read from VmHWM after resetting it ("5" to clear_refs): a forked child's ru_maxrss
# starts at its parent's, and a pytest worker may be far larger than what this process reads.
READ_IN_A_PROCESS = """
import json, sys
with open("/proc/self/clear_refs", "w") as reset:
    reset.write("5")
from planflow.services.errors import InvalidInput
from planflow.services.outputs import excel
data = open(sys.argv[1], "rb").read()
try:
    book = excel.read_workbook(data, "bomb.xlsx")
    said = {"widths": sorted({len(row) for _, rows in book.sheets for row in rows.values()})}
except InvalidInput as exc:
    said = {"refused": exc.render("sv")}
with open("/proc/self/status") as status:
    said["peak_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps(said))
"""


def _read_apart(data: bytes, folder: Path) -> dict[str, object]:
    """What read_workbook makes of `data` in a process of its own, and that process's peak memory."""
    path = folder / "bomb.xlsx"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", READ_IN_A_PROCESS, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    said: dict[str, object] = json.loads(done.stdout)
    return said


def test_a_sheet_claiming_16384_columns_is_read_in_its_own_columns(seeded: Database, tmp_path: Path) -> None:
    bomb = dimension_bomb(_export(seeded))
    assert len(bomb) < 100_000
    said = _read_apart(bomb, tmp_path)
    assert said["widths"] == [10] and said["peak_mb"] < 300  # type: ignore[operator]
    with pytest.raises(ImportRefused) as refused:  # and its rows are named: no such activity "x"
        _import(seeded, bomb)
    assert {(p.sheet, p.column) for p in refused.value.problems} == {("Fokusområde 1", "A")}
    assert len(refused.value.problems) == 5000 - 13


def test_a_workbook_unpacking_to_300_mb_is_refused_before_it_is_parsed(
    seeded: Database, tmp_path: Path
) -> None:
    bomb = shared_string_bomb(_export(seeded))
    assert len(bomb) < 2 * 2**20
    said = _read_apart(bomb, tmp_path)
    assert (
        said["refused"]
        == "bomb.xlsx packas upp till mer än 32 MB och läses inte (en export av planen är långt mindre)"
    )
    assert said["peak_mb"] < 300  # type: ignore[operator]


def test_a_refused_workbook_is_refused_without_waiting_for_the_write_lock(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    assert cli("init", "--demo").exit_code == 0
    path = tmp_path / "plan.xlsx"
    assert cli("plan", "export", "--format", "xlsx", "--out", str(path)).exit_code == 0
    path.write_bytes(shared_string_bomb(path.read_bytes(), 40))
    with write_lock_held(database_url):
        started = time.monotonic()
        refused = cli("plan", "import", str(path))
        took = time.monotonic() - started
    assert refused.exit_code == 1 and "packas upp till mer än 32 MB" in refused.output
    assert took < 10  # the lock's wait is 30 s: the file was read before the transaction began


@pytest.mark.parametrize("cached", [None, "Ny rubrik"])
def test_a_formula_in_a_cell_is_refused_with_its_place(seeded: Database, cached: str | None) -> None:
    before = _titles(seeded)
    edited = _edit(_export(seeded), {("Fokusområde 1", "F2"): '=""', ("Fokusområde 1", "C3"): "=C2"})
    if cached is not None:
        edited = with_cached_value(edited, "Fokusområde 1", "C3", cached)
    with pytest.raises(ImportRefused) as refused:
        _import(seeded, edited)
    places = [(p.sheet, p.row, p.column) for p in refused.value.problems]
    assert places == [("Fokusområde 1", 2, "F"), ("Fokusområde 1", 3, "C")]
    text = refused.value.render("sv")
    assert 'Fokusområde 1, rad 2, kolumn F: en formel (="") tas inte emot: skriv in själva värdet' in text
    assert "Fokusområde 1, rad 3, kolumn C: en formel (=C2) tas inte emot" in text
    assert _titles(seeded) == before
    with seeded.reading() as session:
        assert audit.events(session, action="activity.updated") == []
