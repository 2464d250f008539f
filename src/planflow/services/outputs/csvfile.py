"""Every CSV planflow writes, written one way: what Excel opens in a Swedish installation, with no
cell a spreadsheet runs as a formula.

Swedish Excel reads a CSV with the list separator of the system's region (a semicolon, since the
decimal comma takes the comma) and as UTF-8 only when the file begins with a byte order mark;
without both it shows one column and "Ã¥ter". So: UTF-8 with a BOM, semicolons, CRLF line ends
(RFC 4180's), a field quoted only when it holds a semicolon, a quote or a line break.

The formula guard (OWASP, "CSV Injection"): a text cell that begins with = + - @ TAB or CR is
written with an apostrophe before it, so Excel and LibreOffice show it as text instead of running
it. A text that itself begins with an apostrophe gets one more, so the guard can be undone exactly
(`unguarded`): the archive's CSVs say the same as the records they come from. Numbers are written
as numbers and are not guarded (-3 stays a number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

BOM = "\ufeff"
DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


class _Dialect(csv.Dialect):
    delimiter = DELIMITER
    quotechar = '"'
    doublequote = True
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    skipinitialspace = False
    strict = True


def guarded(text: str) -> str:
    """A text as a cell no spreadsheet runs as a formula."""
    return GUARD + text if text.startswith((*FORMULA_STARTS, GUARD)) else text


def unguarded(text: str) -> str:
    """A cell's text as it was before `guarded`."""
    return text[1:] if text.startswith(GUARD) else text


def cell(value: Any) -> str | int | float:
    """A value as a CSV cell: nothing as empty, a moment or day in ISO 8601, a number as itself,
    anything else as guarded text."""
    if value is None:
        return ""
    if isinstance(value, bool):  # a bool is an int to Python, a word to a reader
        return guarded(str(value).lower())
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return guarded(str(value))


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """The CSV file, a line at a time (the first begins with the BOM): for a download streamed
    as it is read."""
    out = io.StringIO()
    writer = csv.writer(out, _Dialect)

    def line(values: Iterable[Any]) -> bytes:
        writer.writerow([cell(v) for v in values])
        written = out.getvalue()
        out.seek(0)
        out.truncate()
        return written.encode("utf-8")

    yield BOM.encode("utf-8") + line(header)
    for row in rows:
        yield line(row)


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """The CSV file whole."""
    return b"".join(csv_lines(header, rows))


def read_csv(data: bytes) -> list[dict[str, str]]:
    """A file `csv_bytes` wrote, as its rows by header, each cell as it was before the guard."""
    text = data.decode("utf-8").removeprefix(BOM)
    reader = csv.reader(io.StringIO(text, newline=""), _Dialect)
    header = next(reader, [])
    return [dict(zip(header, (unguarded(v) for v in row), strict=True)) for row in reader]
