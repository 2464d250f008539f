"""Reading an edited workbook back: every row checked first, then applied, or nothing changed."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ....i18n import LANGUAGES, Message, text
from ....models import Activity, Plan
from ...authority import access
from ...authority.access import UseCase
from ...errors import InvalidInput, quote
from ...plan import activity_edits
from ...records import audit
from ...records.audit import Actor
from .layout import COLUMN_KEYS, COLUMNS, LETTERS, area_sheet_name, column_headers, load_plan

MAX_BYTES = 20 * 2**20  # the file as sent
# What the file holds unpacked, bounded before a byte is parsed: a zip says in its central
# directory how large each part is, and Python's zipfile stops reading a part there, so a 26 KB
# file cannot unpack to 700 MB. An export of 5,000 activities with 200-character titles is 3 MB
# unpacked; at these limits reading a workbook peaks near 200 MB (the parts' text as Python
# strings), against 650 MB for a crafted 300 KB file before.
MAX_PART_BYTES = 16 * 2**20
MAX_UNPACKED_BYTES = 32 * 2**20
MAX_PARTS = 200
MAX_SHEETS = 50
MAX_ROWS = 5000


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    row: int
    column: str  # the column's letter, or "-" for the whole row or sheet
    message: Message

    def render(self, language: str | None) -> str:
        return text(
            language,
            "xlsx.problem",
            {
                "sheet": self.sheet,
                "row": self.row,
                "column": self.column,
                "problem": self.message.render(language),
            },
        )


class ImportRefused(InvalidInput):
    """The workbook has errors: nothing was changed; `problems` names each (sheet, row, column)."""

    def __init__(self, file: str, problems: list[CellProblem]) -> None:
        super().__init__("error.xlsx.rows", file=file, count=len(problems))
        self.problems = problems

    def render(self, language: str | None) -> str:
        lines = [super().render(language), *(p.render(language) for p in self.problems)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Formula:
    """A cell that computes its value: the import takes what was typed, never what a formula
    made of it (its cached value may be stale, or missing)."""

    text: str

    def __str__(self) -> str:
        return self.text


# A sheet's non-empty rows by number (1 the header), each its cells in the layout's columns.
Rows = dict[int, tuple[Any, ...]]


@dataclass(frozen=True)
class Workbook:
    """An uploaded workbook read and bounded, before any transaction: its sheets in order."""

    file: str  # its name, quoted, for messages
    sha256: str
    sheets: list[tuple[str, Rows]]


@dataclass(frozen=True)
class ImportResult:
    rows: int
    changed: list[str]  # activity codes


@dataclass
class _Row:
    sheet: str
    row: int
    activity: Activity
    edit: activity_edits.ActivityEdit


def read_workbook(data: bytes, file_name: str = "-") -> Workbook:
    """An uploaded workbook's cells, or one clear InvalidInput: a file that is no workbook, or
    holds more than the limits (unpacked size, sheets, rows). Needs no database: a front end reads
    the file before it opens the transaction, so a large file never holds the write lock."""
    name = quote(file_name)
    return Workbook(name, hashlib.sha256(data).hexdigest(), _read(data, name))


def import_xlsx(
    session: Session, actor: Actor, workbook: Workbook, plan_slug: str | None = None
) -> ImportResult:
    """Apply a read workbook's titles, owners, offices and dates to the plan (audited per
    activity), or change nothing and raise ImportRefused listing every bad cell."""
    actor = access.require(session, actor, UseCase.EDIT_PLAN)
    name, sheets = workbook.file, workbook.sheets
    plan = load_plan(session, plan_slug)
    language = _language(sheets, plan, name)
    rows = _checked_rows(session, sheets[1:], plan, language, name)
    changed = []
    for row in rows:
        edit = row.edit
        code = row.activity.code
        if activity_edits.update_activity(
            session, actor, plan, code, edit.title, edit.owner, edit.office, edit.starts_on, edit.ends_on
        ):
            changed.append(code)
    audit.record(
        session,
        actor,
        "plan.imported",
        "plan",
        plan.slug,
        {"file": name, "sha256": workbook.sha256, "rows": len(rows), "changed": changed},
    )
    return ImportResult(len(rows), changed)


def _language(sheets: list[tuple[str, Rows]], plan: Plan, name: str) -> str:
    """The language the workbook was exported in, once it is shown to be an export of `plan`:
    its summary sheet names the plan and its other sheets are the plan's focus areas."""
    summary_names = {text(lang, "xlsx.sheet.summary") for lang in LANGUAGES}
    if not sheets or sheets[0][0] not in summary_names:
        raise InvalidInput("error.xlsx.foreign", file=name)
    slug = _cell(sheets[0][1], 2, 1)
    if slug != plan.slug:
        raise InvalidInput("error.xlsx.other_plan", file=name, found=quote(slug or "-"), plan=plan.slug)
    expected_sheets = {
        lang: [area_sheet_name(lang, area.number) for area in plan.focus_areas] for lang in LANGUAGES
    }
    names = [sheet_name for sheet_name, _ in sheets[1:]]
    language = next((lang for lang, wanted in expected_sheets.items() if names == wanted), None)
    if language is None:
        raise InvalidInput(
            "error.xlsx.sheets",
            file=name,
            sheets=", ".join(expected_sheets["sv"]),
            found=quote(", ".join(names)),
        )
    return language


def _checked_rows(
    session: Session, sheets: list[tuple[str, Rows]], plan: Plan, language: str, name: str
) -> list[_Row]:
    """Every non-empty row of the focus-area sheets as an edit, or ImportRefused naming every bad
    cell of every sheet."""
    activities = {
        a.code: (a, area.number)
        for area in plan.focus_areas
        for ia in area.intervention_areas
        for a in ia.activities
    }
    problems: list[CellProblem] = []
    rows: list[_Row] = []
    seen: dict[str, tuple[str, int]] = {}
    header = column_headers(language)
    for (sheet_name, values), area in zip(sheets, plan.focus_areas, strict=True):
        if [str(v or "").strip() for v in values.get(1, ())] != header:
            message = Message("xlsx.bad_header", {"header": ", ".join(header)})
            problems.append(CellProblem(sheet_name, 1, "-", message))
            continue
        for index, cells in values.items():
            if index == 1:
                continue
            row = _check_row(
                session, sheet_name, index, cells, area.number, activities, seen, problems, language
            )
            if row is not None:
                rows.append(row)
    if problems:
        raise ImportRefused(name, problems)
    return rows


def _read(data: bytes, name: str) -> list[tuple[str, Rows]]:
    """Every sheet's non-empty rows, or one clear InvalidInput for a file that is no workbook or
    is larger than the limits."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("error.xlsx.too_large", file=name, limit=MAX_BYTES // 2**20)
    _check_unpacked_size(data, name)
    from openpyxl import load_workbook  # here, not at the top: 20 MB a worker need not keep

    try:
        # data_only=False: a formula cell says it is one (data_type "f") instead of its cached value
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a zip that is not a workbook
        raise InvalidInput("error.xlsx.not_workbook", file=name) from None
    try:
        if len(workbook.worksheets) > MAX_SHEETS:
            raise InvalidInput("error.xlsx.too_many_sheets", file=name, limit=MAX_SHEETS)
        return [(sheet.title, _rows(sheet, name)) for sheet in workbook.worksheets]
    except InvalidInput:
        raise
    except Exception:
        raise InvalidInput("error.xlsx.not_workbook", file=name) from None
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes, name: str) -> None:
    """Refuse a zip whose parts, by its central directory, unpack to more than the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise InvalidInput("error.xlsx.not_workbook", file=name) from None
    if (
        len(parts) > MAX_PARTS
        or any(part.file_size > MAX_PART_BYTES for part in parts)
        or sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES
    ):
        raise InvalidInput("error.xlsx.unpacked_too_large", file=name, limit=MAX_UNPACKED_BYTES // 2**20)


def _rows(sheet: Any, name: str) -> Rows:
    """A sheet's non-empty rows in the layout's columns. The sheet's own claim of its size (its
    dimension, which may say 16,384 columns) is ignored: only the layout's columns are read, and
    a sheet longer than MAX_ROWS is refused."""
    sheet.reset_dimensions()
    rows: Rows = {}
    for number, row in enumerate(sheet.iter_rows(max_col=len(COLUMNS)), start=1):
        if number > MAX_ROWS + 1:  # the header and MAX_ROWS rows
            title = quote(sheet.title)
            raise InvalidInput("error.xlsx.too_many_rows", file=name, sheet=title, limit=MAX_ROWS)
        cells = _cells(tuple(_value(cell) for cell in row))
        if cells is not None:
            rows[number] = cells
    return rows


def _value(cell: Any) -> Any:
    return Formula(str(cell.value)) if cell.data_type == "f" else cell.value


def _cells(raw: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A row's cells in the sheet's columns (padded to all of them), or None when all are empty."""
    cells = raw[: len(COLUMNS)] + (None,) * (len(COLUMNS) - len(raw[: len(COLUMNS)]))
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return None
    return cells


def _cell(rows: Rows, row: int, col: int) -> str | None:
    """The text of cell (row, col): rows counted from 1 as in the sheet, columns from 0."""
    value = rows[row][col] if row in rows else None
    return str(value).strip() if value is not None else None


def _check_row(
    session: Session,
    sheet: str,
    index: int,
    cells: tuple[Any, ...],
    area_number: int,
    activities: dict[str, tuple[Activity, int]],
    seen: dict[str, tuple[str, int]],
    problems: list[CellProblem],
    language: str,
) -> _Row | None:
    def problem(key: str, message: str, **params: Any) -> None:
        problems.append(CellProblem(sheet, index, LETTERS[COLUMN_KEYS.index(key)], Message(message, params)))

    computed = [(k, cell) for k, cell in zip(COLUMN_KEYS, cells, strict=True) if isinstance(cell, Formula)]
    for key, formula in computed:
        problem(key, "xlsx.formula", formula=quote(formula))
    if computed:  # the row's other cells are checked once it holds only values
        return None
    before = len(problems)
    code = str(cells[0]).strip() if cells[0] is not None else ""
    found = activities.get(code)
    if found is None:
        problem("code", "xlsx.unknown_code", code=quote(code or "-"))
        return None
    activity, number = found
    if number != area_number:
        problem("code", "xlsx.wrong_area", code=code, area=number)
    if code in seen:
        problem("code", "xlsx.duplicate", code=code, sheet=seen[code][0], row=seen[code][1])
    seen.setdefault(code, (sheet, index))

    starts_on, ends_on = _date(cells[6]), _date(cells[7])
    if starts_on is False:
        problem("starts_on", "xlsx.bad_date", value=quote(cells[6]))
    if ends_on is False:
        problem("ends_on", "xlsx.bad_date", value=quote(cells[7]))
    edit = activity_edits.ActivityEdit.clean(
        _text(cells[2]),
        _text(cells[3]),
        _text(cells[5]),
        starts_on if isinstance(starts_on, date) else None,
        ends_on if isinstance(ends_on, date) else None,
    )
    # The page's rule, cell by cell: what it says of a field is said of that field's column.
    for key, message in activity_edits.activity_edit_problems(session, activity, edit).items():
        problems.append(CellProblem(sheet, index, LETTERS[COLUMN_KEYS.index(key)], message))

    status = activity.status.value if activity.status else "unreported"
    if _text(cells[8]) != text(language, f"status.{status}"):
        problem("status", "xlsx.status_fixed", status=text(language, f"status.{status}"))
    if len(problems) > before:
        problems[before:] = sorted(problems[before:], key=lambda p: LETTERS.index(p.column))
        return None
    return _Row(sheet, index, activity, edit)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _date(value: Any) -> date | None | bool:
    """A date cell (or ISO text), None when empty, False when it is no date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else False
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return False
    return False
