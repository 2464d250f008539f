"""The plan in and out of Excel.

Export (XlsxWriter): a summary sheet, then one sheet per focus area with one row per activity; the
status cell is filled with its colour and says the status in words. The file is deterministic (fixed
document dates, fixed zip times), so export → import → export gives the same bytes.

Import (openpyxl, read-only): the same layout. What a sheet may change is an activity's title, owner
(a username), office and dates; the status comes only through the reporting chain (a changed status is
an error, not ignored), new activities only through proposals, and the other columns are derived.
An edited row follows the same rule as the page that edits one activity (plans.update_activity).
Every row is checked first; if any is wrong nothing changes and each error names sheet, row and column.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..i18n import LANGUAGES, Message, text
from ..models import Activity, FocusArea, InterventionArea, Plan
from . import access, audit, plans
from .access import UseCase
from .audit import Actor
from .errors import InvalidInput, quote

MAX_BYTES = 20 * 2**20
MAX_ROWS = 5000
# (key, editable): the columns of a focus-area sheet, in order
COLUMNS = (
    ("code", False),
    ("intervention_area", False),
    ("title", True),
    ("owner", True),
    ("owner_name", False),
    ("office", True),
    ("starts_on", True),
    ("ends_on", True),
    ("status", False),
    ("state", False),
)
COLUMN_KEYS = [key for key, _ in COLUMNS]
LETTERS = "ABCDEFGHIJ"
WIDTHS = (8, 12, 60, 22, 26, 26, 12, 12, 16, 12)
FILLS = {"green": "#2E9E44", "yellow": "#F2C12E", "red": "#D3312C", None: "#FFFFFF"}
FONT_ON = {"green": "#FFFFFF", "yellow": "#1D1D1F", "red": "#FFFFFF", None: "#1D1D1F"}


def _header(language: str) -> list[str]:
    return [text(language, f"xlsx.col.{key}") for key, _ in COLUMNS]


def _sheet_name(language: str, number: int) -> str:
    return text(language, "xlsx.sheet.area", {"number": number})


def export_xlsx(session: Session, plan_slug: str | None = None, language: str = "sv") -> bytes:
    """The plan as an .xlsx workbook (the same bytes for the same plan)."""
    import xlsxwriter  # here, not at the top: a web worker that never exports keeps 10 MB less

    plan = _load(session, plan_slug)
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    # Fixed dates: the file says what the plan is, not when it was written.
    fixed = datetime(plan.adopted_on.year, plan.adopted_on.month, plan.adopted_on.day, tzinfo=UTC)
    workbook.set_properties(
        {
            "title": plan.title,
            "company": plan.organisation,
            "author": "planflow",
            "created": fixed.replace(tzinfo=None),
        }
    )
    bold = workbook.add_format({"bold": True})
    title_format = workbook.add_format({"bold": True, "font_size": 14})
    head_edit = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    head_fixed = workbook.add_format({"bold": True, "bg_color": "#E7E6E6", "border": 1, "text_wrap": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    plain = workbook.add_format({"valign": "top"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    status_formats = {
        key: workbook.add_format(
            {"bg_color": fill, "font_color": FONT_ON[key], "bold": True, "border": 1, "valign": "top"}
        )
        for key, fill in FILLS.items()
    }

    summary = workbook.add_worksheet(text(language, "xlsx.sheet.summary"))
    summary.write(0, 0, plan.title, title_format)
    summary.write(1, 0, text(language, "xlsx.plan"), bold)
    summary.write(1, 1, plan.slug)
    summary.write(2, 0, plan.organisation)
    summary.write(3, 0, text(language, "xlsx.editable"))
    summary_head = [text(language, "xlsx.col.focus_area"), text(language, "xlsx.col.area_title")] + [
        text(language, f"status.{key}") for key in ("green", "yellow", "red", "unreported")
    ]
    for col, word in enumerate(summary_head):
        summary.write(5, col, word, head_fixed)
    summary.set_column(0, 0, 14)
    summary.set_column(1, 1, 60)
    summary.set_column(2, 5, 14)

    for row, area in enumerate(plan.focus_areas, start=6):
        activities = [a for ia in area.intervention_areas for a in ia.activities]
        counts = {
            key: sum(1 for a in activities if (a.status.value if a.status else None) == key) for key in FILLS
        }
        summary.write(row, 0, area.number)
        summary.write(row, 1, area.title)
        for col, key in enumerate(("green", "yellow", "red", None), start=2):
            summary.write(row, col, counts[key])

        sheet = workbook.add_worksheet(_sheet_name(language, area.number))
        for col, (word, (_, editable)) in enumerate(zip(_header(language), COLUMNS, strict=True)):
            sheet.write(0, col, word, head_edit if editable else head_fixed)
            sheet.set_column(col, col, WIDTHS[col])
        sheet.freeze_panes(1, 1)
        for r, activity in enumerate(activities, start=1):
            status = activity.status.value if activity.status else None
            sheet.write_string(r, 0, activity.code, plain)
            sheet.write_string(r, 1, activity.intervention_area.code, plain)
            sheet.write_string(r, 2, activity.title, wrap)
            _write_text(sheet, r, 3, activity.owner.username if activity.owner else None, plain)
            _write_text(sheet, r, 4, activity.owner.display_name if activity.owner else None, plain)
            _write_text(sheet, r, 5, activity.office, plain)
            for col, value in ((6, activity.starts_on), (7, activity.ends_on)):
                if value is None:
                    sheet.write_blank(r, col, None, day)
                else:
                    sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), day)
            sheet.write_string(
                r, 8, text(language, f"status.{status or 'unreported'}"), status_formats[status]
            )
            sheet.write_string(r, 9, text(language, f"xlsx.state.{activity.state.value}"), plain)
        if activities:
            sheet.autofilter(0, 0, len(activities), len(COLUMNS) - 1)
    workbook.close()
    return out.getvalue()


def _write_text(sheet: Any, row: int, col: int, value: str | None, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_string(row, col, value, fmt)


def _load(session: Session, plan_slug: str | None) -> Plan:
    plan = plans.get_plan(session, plan_slug)
    session.scalars(
        select(Plan)
        .where(Plan.id == plan.id)
        .options(
            selectinload(Plan.focus_areas)
            .selectinload(FocusArea.intervention_areas)
            .selectinload(InterventionArea.activities)
            .selectinload(Activity.owner)
        )
    ).one()
    return plan


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
class ImportResult:
    rows: int
    changed: list[str]  # activity codes


@dataclass
class _Row:
    sheet: str
    row: int
    activity: Activity
    edit: plans.ActivityEdit


def import_xlsx(
    session: Session, actor: Actor, data: bytes, file_name: str = "-", plan_slug: str | None = None
) -> ImportResult:
    """Apply an edited workbook's titles, owners, offices and dates to the plan (audited per
    activity), or change nothing and raise ImportRefused listing every bad cell."""
    actor = access.require(session, actor, UseCase.EDIT_PLAN)
    name = quote(file_name)
    plan = _load(session, plan_slug)
    sheets = _read(data, name)
    summary_names = {text(lang, "xlsx.sheet.summary") for lang in LANGUAGES}
    if not sheets or sheets[0][0] not in summary_names:
        raise InvalidInput("error.xlsx.foreign", file=name)
    slug = _cell(sheets[0][1], 1, 1)
    if slug != plan.slug:
        raise InvalidInput("error.xlsx.other_plan", file=name, found=quote(slug or "-"), plan=plan.slug)

    activities = {
        a.code: (a, area.number)
        for area in plan.focus_areas
        for ia in area.intervention_areas
        for a in ia.activities
    }
    problems: list[CellProblem] = []
    rows: list[_Row] = []
    seen: dict[str, tuple[str, int]] = {}
    expected_sheets = {
        lang: [_sheet_name(lang, area.number) for area in plan.focus_areas] for lang in LANGUAGES
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
    for (sheet_name, values), area in zip(sheets[1:], plan.focus_areas, strict=True):
        if not values or [str(v or "").strip() for v in values[0][: len(COLUMNS)]] != _header(language):
            problems.append(
                CellProblem(
                    sheet_name, 1, "-", Message("xlsx.bad_header", {"header": ", ".join(_header(language))})
                )
            )
            continue
        for index, raw in enumerate(values[1:], start=2):
            cells = list(raw[: len(COLUMNS)]) + [None] * (len(COLUMNS) - len(raw[: len(COLUMNS)]))
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            row = _check_row(
                session, sheet_name, index, cells, area.number, activities, seen, problems, language
            )
            if row is not None:
                rows.append(row)
    if problems:
        raise ImportRefused(name, problems)

    changed = []
    for row in rows:
        edit = row.edit
        code = row.activity.code
        if plans.update_activity(
            session, actor, plan, code, edit.title, edit.owner, edit.office, edit.starts_on, edit.ends_on
        ):
            changed.append(code)
    audit.record(
        session,
        actor,
        "plan.imported",
        "plan",
        plan.slug,
        {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows), "changed": changed},
    )
    return ImportResult(len(rows), changed)


def _read(data: bytes, name: str) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every sheet's rows as values, or one clear InvalidInput for a file that is no workbook."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("error.xlsx.too_large", file=name, limit=MAX_BYTES // 2**20)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InvalidInput("error.xlsx.not_workbook", file=name)
    from openpyxl import load_workbook  # here, not at the top: 20 MB a worker need not keep

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a zip that is not a workbook
        raise InvalidInput("error.xlsx.not_workbook", file=name) from None
    try:
        sheets = []
        for sheet in workbook.worksheets:
            values = []
            for count, row in enumerate(sheet.iter_rows(values_only=True)):
                if count > MAX_ROWS:
                    raise InvalidInput(
                        "error.xlsx.too_many_rows", file=name, sheet=quote(sheet.title), limit=MAX_ROWS
                    )
                values.append(tuple(row))
            sheets.append((sheet.title, values))
        return sheets
    except InvalidInput:
        raise
    except Exception:
        raise InvalidInput("error.xlsx.not_workbook", file=name) from None
    finally:
        workbook.close()


def _cell(values: list[tuple[Any, ...]], row: int, col: int) -> str | None:
    try:
        value = values[row][col]
    except IndexError:
        return None
    return str(value).strip() if value is not None else None


def _check_row(
    session: Session,
    sheet: str,
    index: int,
    cells: list[Any],
    area_number: int,
    activities: dict[str, tuple[Activity, int]],
    seen: dict[str, tuple[str, int]],
    problems: list[CellProblem],
    language: str,
) -> _Row | None:
    def problem(key: str, message: str, **params: Any) -> None:
        problems.append(CellProblem(sheet, index, LETTERS[COLUMN_KEYS.index(key)], Message(message, params)))

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
    edit = plans.ActivityEdit.clean(
        _text(cells[2]),
        _text(cells[3]),
        _text(cells[5]),
        starts_on if isinstance(starts_on, date) else None,
        ends_on if isinstance(ends_on, date) else None,
    )
    # The page's rule, cell by cell: what it says of a field is said of that field's column.
    for key, message in plans.activity_edit_problems(session, activity, edit).items():
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
