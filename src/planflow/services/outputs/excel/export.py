"""Writing the plan as a workbook (XlsxWriter): a summary sheet, then one sheet per focus area."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ....i18n import text
from ....models import Activity, FocusArea, Plan
from .layout import COLUMNS, FILLS, FONT_ON, WIDTHS, area_sheet_name, column_headers, load_plan


def export_xlsx(session: Session, plan_slug: str | None = None, language: str = "sv") -> bytes:
    """The plan as an .xlsx workbook (the same bytes for the same plan)."""
    import xlsxwriter  # here, not at the top: a web worker that never exports keeps 10 MB less

    plan = load_plan(session, plan_slug)
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
    formats = _Formats.of(workbook)
    summary = _summary_sheet(workbook, plan, language, formats)
    # Each area's summary row, then its sheet: strings are shared in the order they are written,
    # so this order keeps the bytes of an export of the same plan the same.
    for row, area in enumerate(plan.focus_areas, start=6):
        activities = [a for ia in area.intervention_areas for a in ia.activities]
        _summary_row(summary, row, area, activities)
        _area_sheet(workbook, language, area, activities, formats)
    workbook.close()
    return out.getvalue()


@dataclass(frozen=True)
class _Formats:
    """The cell formats of an exported workbook."""

    bold: Any
    title: Any
    head_edit: Any  # the header of a column an import takes
    head_fixed: Any  # ... and of one it only checks or ignores
    wrap: Any
    plain: Any
    day: Any
    status: dict[str | None, Any]  # filled with the status's colour

    @classmethod
    def of(cls, workbook: Any) -> _Formats:
        add = workbook.add_format
        return cls(
            bold=add({"bold": True}),
            title=add({"bold": True, "font_size": 14}),
            head_edit=add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
            head_fixed=add({"bold": True, "bg_color": "#E7E6E6", "border": 1, "text_wrap": True}),
            wrap=add({"text_wrap": True, "valign": "top"}),
            plain=add({"valign": "top"}),
            day=add({"num_format": "yyyy-mm-dd", "valign": "top"}),
            status={
                key: add(
                    {"bg_color": fill, "font_color": FONT_ON[key], "bold": True, "border": 1, "valign": "top"}
                )
                for key, fill in FILLS.items()
            },
        )


def _summary_sheet(workbook: Any, plan: Plan, language: str, formats: _Formats) -> Any:
    """The first sheet: which plan this is (an import checks it), what may be edited, and the
    head of the table of statuses per focus area."""
    summary = workbook.add_worksheet(text(language, "xlsx.sheet.summary"))
    summary.write(0, 0, plan.title, formats.title)
    summary.write(1, 0, text(language, "xlsx.plan"), formats.bold)
    summary.write(1, 1, plan.slug)
    summary.write(2, 0, plan.organisation)
    summary.write(3, 0, text(language, "xlsx.editable"))
    summary_head = [text(language, "xlsx.col.focus_area"), text(language, "xlsx.col.area_title")] + [
        text(language, f"status.{key}") for key in ("green", "yellow", "red", "unreported")
    ]
    for col, word in enumerate(summary_head):
        summary.write(5, col, word, formats.head_fixed)
    summary.set_column(0, 0, 14)
    summary.set_column(1, 1, 60)
    summary.set_column(2, 5, 14)
    return summary


def _summary_row(summary: Any, row: int, area: FocusArea, activities: list[Activity]) -> None:
    """A focus area's line on the summary sheet: how many of its activities have each status."""
    counts = {
        key: sum(1 for a in activities if (a.status.value if a.status else None) == key) for key in FILLS
    }
    summary.write(row, 0, area.number)
    summary.write(row, 1, area.title)
    for col, key in enumerate(("green", "yellow", "red", None), start=2):
        summary.write(row, col, counts[key])


def _area_sheet(
    workbook: Any, language: str, area: FocusArea, activities: list[Activity], formats: _Formats
) -> None:
    """A focus area's sheet: a header that marks the editable columns, one row per activity."""
    sheet = workbook.add_worksheet(area_sheet_name(language, area.number))
    for col, (word, (_, editable)) in enumerate(zip(column_headers(language), COLUMNS, strict=True)):
        sheet.write(0, col, word, formats.head_edit if editable else formats.head_fixed)
        sheet.set_column(col, col, WIDTHS[col])
    sheet.freeze_panes(1, 1)
    for row, activity in enumerate(activities, start=1):
        _activity_row(sheet, row, activity, language, formats)
    if activities:
        sheet.autofilter(0, 0, len(activities), len(COLUMNS) - 1)


def _activity_row(sheet: Any, r: int, activity: Activity, language: str, formats: _Formats) -> None:
    status = activity.status.value if activity.status else None
    sheet.write_string(r, 0, activity.code, formats.plain)
    sheet.write_string(r, 1, activity.intervention_area.code, formats.plain)
    sheet.write_string(r, 2, activity.title, formats.wrap)
    _write_text(sheet, r, 3, activity.owner.username if activity.owner else None, formats.plain)
    _write_text(sheet, r, 4, activity.owner.display_name if activity.owner else None, formats.plain)
    _write_text(sheet, r, 5, activity.office, formats.plain)
    for col, value in ((6, activity.starts_on), (7, activity.ends_on)):
        if value is None:
            sheet.write_blank(r, col, None, formats.day)
        else:
            sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), formats.day)
    sheet.write_string(r, 8, text(language, f"status.{status or 'unreported'}"), formats.status[status])
    sheet.write_string(r, 9, text(language, f"xlsx.state.{activity.state.value}"), formats.plain)


def _write_text(sheet: Any, row: int, col: int, value: str | None, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_string(row, col, value, fmt)
