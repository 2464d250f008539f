"""The plan: load it from its data file, read it as a tree for pages and exports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import resources
from ..models import Activity, ActivityState, FocusArea, InterventionArea, Plan
from .errors import InvalidInput

SEED_PLAN = "sodertalje_2016.json"
# Södertälje's plan is 40 kB; a file far larger than any plan is refused before it is parsed.
MAX_PLAN_BYTES = 5 * 1024 * 1024

STATUS_LABELS = {"green": "Grön", "yellow": "Gul", "red": "Röd", None: "Ej rapporterad"}


@cache
def _plan_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.data_file("plan.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def read_plan_document(path: Path | None = None) -> dict[str, Any]:
    """Read and check a plan data file; a malformed entry raises InvalidInput naming where it is."""
    path = path or resources.data_file(SEED_PLAN)
    name = _short(path.name)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read plan file {name}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise InvalidInput(f"plan file {name} is larger than {MAX_PLAN_BYTES // 2**20} MB: it is not a plan")
    try:
        document = json.loads(data.decode("utf-8"))
        error = jsonschema.exceptions.best_match(_plan_validator().iter_errors(document))
    except ValueError as exc:
        raise InvalidInput(f"cannot read plan file {name}: {_short(str(exc), 120)}") from None
    except RecursionError:
        raise InvalidInput(f"plan file {name} is nested too deeply to be a plan") from None
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        # jsonschema's message quotes the value at fault, which may be as long as the file
        what = (
            error.message if len(error.message) <= 100 else f"fails {error.validator} {error.validator_value}"
        )
        raise InvalidInput(f"plan file {name}: {_short(where)}: {_short(what, 100)}")
    _check_numbering(document, name)
    period = document["strategy_period"]
    if period["end"] < period["start"]:
        start, end = period["start"], period["end"]
        raise InvalidInput(f"plan file {name}: strategy_period: it ends ({end}) before it starts ({start})")
    return document


def _short(text: str, limit: int = 80) -> str:
    """At most `limit` characters of a text from a plan file, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _check_numbering(document: dict[str, Any], name: str) -> None:
    """Numbers must run 1, 2, 3… at every level: they make the activity codes."""

    def check(items: list[dict[str, Any]], where: str) -> None:
        numbers = [item["number"] for item in items]
        if numbers != list(range(1, len(items) + 1)):
            got = _short(str(numbers), 60)
            raise InvalidInput(f"plan file {name}: {where}: numbers must run 1..{len(items)}, got {got}")

    check(document["focus_areas"], "focus_areas")
    for fa in document["focus_areas"]:
        check(fa["intervention_areas"], f"focus area {fa['number']}")
        for ia in fa["intervention_areas"]:
            check(ia["activities"], f"intervention area {fa['number']}.{ia['number']}")


def load_plan(session: Session, document: dict[str, Any]) -> bool:
    """Create the plan from a checked document; returns False (and changes nothing) if one exists."""
    if session.scalar(select(Plan.id).limit(1)) is not None:
        return False
    plan = Plan(
        title=document["title"],
        organisation=document["organisation"],
        adopted_on=date.fromisoformat(document["adopted_on"]),
        strategy_start=document["strategy_period"]["start"],
        strategy_end=document["strategy_period"]["end"],
        source=document["source"],
    )
    for fa in document["focus_areas"]:
        focus_area = FocusArea(number=fa["number"], title=fa["title"])
        plan.focus_areas.append(focus_area)
        for ia in fa["intervention_areas"]:
            area = InterventionArea(number=ia["number"], title=ia["title"], approach=ia["approach"])
            focus_area.intervention_areas.append(area)
            for act in ia["activities"]:
                area.activities.append(
                    Activity(
                        number=act["number"],
                        code=f"{fa['number']}.{ia['number']}.{act['number']}",
                        title=act["title"],
                        description=act.get("description"),
                    )
                )
    session.add(plan)
    session.flush()
    return True


# The read side: small dataclasses for templates, the CLI and the API (no ORM objects leak out).


@dataclass(frozen=True)
class ActivityView:
    code: str
    title: str
    owner: str | None
    owner_name: str | None
    office: str | None
    starts_on: date | None
    ends_on: date | None
    status: str | None
    closed: bool
    is_demo: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class InterventionAreaView:
    code: str
    number: int
    title: str
    approach: str | None
    activities: list[ActivityView] = field(default_factory=list)


@dataclass(frozen=True)
class FocusAreaView:
    number: int
    title: str
    intervention_areas: list[InterventionAreaView] = field(default_factory=list)


@dataclass(frozen=True)
class PlanView:
    title: str
    organisation: str
    adopted_on: date
    strategy_period: str
    focus_areas: list[FocusAreaView]


def plan_tree(session: Session) -> PlanView | None:
    """The whole plan as a tree of views, in three queries."""
    plan = session.scalar(
        select(Plan).options(
            selectinload(Plan.focus_areas)
            .selectinload(FocusArea.intervention_areas)
            .selectinload(InterventionArea.activities)
            .selectinload(Activity.owner)
        )
    )
    if plan is None:
        return None
    return PlanView(
        title=plan.title,
        organisation=plan.organisation,
        adopted_on=plan.adopted_on,
        strategy_period=f"{plan.strategy_start}–{plan.strategy_end}",
        focus_areas=[
            FocusAreaView(
                number=fa.number,
                title=fa.title,
                intervention_areas=[
                    InterventionAreaView(
                        code=f"{fa.number}.{ia.number}",
                        number=ia.number,
                        title=ia.title,
                        approach=ia.approach,
                        activities=[_activity_view(a) for a in ia.activities],
                    )
                    for ia in fa.intervention_areas
                ],
            )
            for fa in plan.focus_areas
        ],
    )


def _activity_view(activity: Activity) -> ActivityView:
    return ActivityView(
        code=activity.code,
        title=activity.title,
        owner=activity.owner.username if activity.owner else None,
        owner_name=activity.owner.display_name if activity.owner else None,
        office=activity.office,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        status=activity.status.value if activity.status else None,
        closed=activity.state is ActivityState.CLOSED,
        is_demo=activity.is_demo,
    )


def export_plan(session: Session) -> dict[str, Any] | None:
    """The plan tree as JSON-ready data (`planflow plan export --format json`)."""
    tree = plan_tree(session)
    if tree is None:
        return None
    return {
        "title": tree.title,
        "organisation": tree.organisation,
        "adopted_on": tree.adopted_on.isoformat(),
        "focus_areas": [
            {
                "number": fa.number,
                "title": fa.title,
                "intervention_areas": [
                    {
                        "code": ia.code,
                        "title": ia.title,
                        "approach": ia.approach,
                        "activities": [
                            {
                                "code": a.code,
                                "title": a.title,
                                "owner": a.owner,
                                "office": a.office,
                                "starts_on": a.starts_on.isoformat() if a.starts_on else None,
                                "ends_on": a.ends_on.isoformat() if a.ends_on else None,
                                "status": a.status,
                                "state": "closed" if a.closed else "active",
                                "demo": a.is_demo,
                            }
                            for a in ia.activities
                        ],
                    }
                    for ia in fa.intervention_areas
                ],
            }
            for fa in tree.focus_areas
        ],
    }
