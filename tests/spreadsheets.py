"""CSV files read by readers other than planflow's: Python's csv module set as Swedish Excel reads
(semicolon, UTF-8 after a byte order mark, CRLF), and LibreOffice Calc importing the file with
formulas evaluated and saving it as .xlsx, read back with openpyxl to see which cells became
formulas."""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

SOFFICE = shutil.which("soffice")


def excel_rows(data: bytes) -> list[list[str]]:
    """The rows as Swedish Excel splits them, once the file is shown to be what it opens: a BOM,
    then UTF-8 lines ending in CRLF."""
    assert data.startswith(codecs.BOM_UTF8), "no byte order mark: Excel would read it as ANSI"
    text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    rows = list(reader)
    # Every line ends in CRLF (a quoted cell may hold a line break of its own).
    assert text.endswith("\r\n") and text.count("\n") == text.count("\r\n")
    return rows


def calc_cells(data: bytes, folder: Path) -> list[list[tuple[object, str]]]:
    """Each cell as LibreOffice Calc imports the CSV (semicolon, UTF-8, formulas evaluated):
    (value, openpyxl's data_type, 'f' for a formula). Skips without LibreOffice Calc."""
    if SOFFICE is None:
        pytest.skip("LibreOffice is not installed (Debian: libreoffice-calc-nogui)")
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "file.csv"
    source.write_bytes(data)
    # 59 ';', 34 '"', 76 UTF-8, from line 1; the 13th token: evaluate formulas, as a user's
    # Calc would. Its own profile: other LibreOffice processes may be running.
    converted = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--infilter=CSV:59,34,76,1,,,,,,,,,true",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(folder),
            str(source),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    target = folder / "file.xlsx"
    said = (converted.stdout + converted.stderr).decode(errors="replace")
    if not target.exists() and "no export filter" in said:  # LibreOffice without Calc
        pytest.skip("LibreOffice Calc is not installed (Debian: libreoffice-calc-nogui)")
    assert target.exists(), f"LibreOffice did not convert the CSV: {said}"
    workbook = openpyxl.load_workbook(target, data_only=False)
    return [[(c.value, c.data_type) for c in row] for row in workbook.active.iter_rows()]  # type: ignore[union-attr]


def formulas(cells: list[list[tuple[object, str]]]) -> list[object]:
    """The cells Calc made formulas of."""
    return [value for row in cells for value, kind in row if kind == "f"]
