"""The layout an exported workbook has and an import expects: the columns of a focus-area sheet,
their headers and the sheets' names in each language, and the plan loaded whole."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ....i18n import text
from ....models import Activity, FocusArea, InterventionArea, Plan
from ...plan import plans

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


def column_headers(language: str) -> list[str]:
    """The headers of a focus-area sheet's columns."""
    return [text(language, f"xlsx.col.{key}") for key, _ in COLUMNS]


def area_sheet_name(language: str, number: int) -> str:
    """The name of focus area `number`'s sheet."""
    return text(language, "xlsx.sheet.area", {"number": number})


def load_plan(session: Session, plan_slug: str | None) -> Plan:
    """The plan with its focus areas, intervention areas, activities and owners, read at once."""
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
