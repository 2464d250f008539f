"""The plan: load it from its data file, read it as a tree for pages and exports, and find an
activity in it. The one rule for editing an activity is activity_edits'."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ... import resources
from ...engine.forms import CONTROL
from ...models import Activity, ActivityState, FocusArea, InterventionArea, Plan
from ..errors import InvalidInput, NotFound, quote
from ..records import audit
from ..records.audit import Actor

SEED_PLAN = "sodertalje_2016.json"
# Södertälje's plan is 40 kB; a file far larger than any plan is refused before it is parsed.
MAX_PLAN_BYTES = 5 * 1024 * 1024


@cache
def _plan_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.data_file("plan.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def read_plan_document(path: Path | None = None) -> dict[str, Any]:
    """Read and check a plan data file; a malformed entry raises InvalidInput naming where it is."""
    path = path or resources.data_file(SEED_PLAN)
    name = quote(path.name)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(
            "error.plan.unreadable", file=name, reason=exc.strerror or type(exc).__name__
        ) from None
    if len(data) > MAX_PLAN_BYTES:
        raise InvalidInput("error.plan.too_large", file=name, limit=MAX_PLAN_BYTES // 2**20)
    try:
        document = json.loads(data.decode("utf-8"))
        error = jsonschema.exceptions.best_match(_plan_validator().iter_errors(document))
    except ValueError as exc:
        raise InvalidInput("error.plan.unreadable", file=name, reason=quote(exc)) from None
    except RecursionError:
        raise InvalidInput("error.plan.too_deep", file=name) from None
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "-"
        # jsonschema's message quotes the value at fault, which may be as long as the file
        what = (
            error.message if len(error.message) <= 100 else f"fails {error.validator} {error.validator_value}"
        )
        raise InvalidInput("error.plan.invalid", file=name, where=quote(where), reason=quote(what))
    if bad := _bad_text(document):
        raise InvalidInput("error.plan.invalid", file=name, where=quote(bad), reason="control characters")
    _check_numbering(document, name)
    period = document["strategy_period"]
    if period["end"] < period["start"]:
        raise InvalidInput("error.plan.period", file=name, start=period["start"], end=period["end"])
    return document


def _bad_text(value: Any, where: str = "") -> str | None:
    """Where in a checked document a text holds what no person types (a NUL, a lone surrogate…)."""
    if isinstance(value, str):
        return (where or "-") if CONTROL.search(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if found := _bad_text(item, f"{where}/{key}" if where else str(key)):
            return found
    return None


def _check_numbering(document: dict[str, Any], name: str) -> None:
    """Numbers must run 1, 2, 3… at every level: they make the activity codes."""

    def check(items: list[dict[str, Any]], where: str) -> None:
        numbers = [item["number"] for item in items]
        if numbers != list(range(1, len(items) + 1)):
            raise InvalidInput("error.plan.numbering", file=name, where=where, count=len(items))

    check(document["focus_areas"], "focus_areas")
    for fa in document["focus_areas"]:
        check(fa["intervention_areas"], f"focus area {fa['number']}")
        for ia in fa["intervention_areas"]:
            check(ia["activities"], f"intervention area {fa['number']}.{ia['number']}")


def plan_slug(document: dict[str, Any]) -> str:
    """The document's slug, or one made from its organisation and strategy start."""
    if document.get("slug"):
        return str(document["slug"])
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", document["organisation"]).lower())
    return "-".join([*words[:4], str(document["strategy_period"]["start"])])[:64]


def get_plan(session: Session, slug: str | None = None) -> Plan:
    """Which plan a question is about: the one rule every page, API route, command and job goes
    through. A slug names its plan; no slug means the default plan, the first one loaded (the
    lowest id: a plan is never renumbered, so the default never moves, and the addresses a
    one-plan installation had keep meaning what they meant). NotFound when the slug names no
    plan, or when no plan is loaded."""
    query = select(Plan).where(Plan.slug == slug) if slug else select(Plan).order_by(Plan.id).limit(1)
    plan = session.scalar(query)
    if plan is None:
        raise NotFound("error.plan.not_found", plan=quote(slug or "-"))
    return plan


def load_plan(session: Session, actor: Actor, document: dict[str, Any]) -> Plan | None:
    """Create a plan from a checked document, next to any plans already there; returns None (and
    changes nothing) when a plan with its slug exists."""
    slug = plan_slug(document)
    if session.scalar(select(Plan.id).where(Plan.slug == slug)) is not None:
        return None
    plan = Plan(
        slug=slug,
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
                        plan=plan,
                        number=act["number"],
                        code=f"{fa['number']}.{ia['number']}.{act['number']}",
                        title=act["title"],
                        description=act.get("description"),
                    )
                )
    session.add(plan)
    session.flush()
    count = sum(len(ia["activities"]) for fa in document["focus_areas"] for ia in fa["intervention_areas"])
    audit.record(session, actor, "plan.loaded", "plan", slug, {"title": plan.title, "activities": count})
    return plan


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
    def status_key(self) -> str:
        """The catalog key of the traffic light's word (never colour alone)."""
        return f"status.{self.status or 'unreported'}"


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
    slug: str
    title: str
    organisation: str
    adopted_on: date
    strategy_period: str
    focus_areas: list[FocusAreaView]


def plan_tree(session: Session, slug: str | None = None) -> PlanView | None:
    """The whole plan (plans.get_plan's: the default one unless `slug` names another) as a tree of
    views, in a few queries; None when no plan is loaded at all."""
    try:
        plan_id = get_plan(session, slug).id
    except NotFound:
        if slug:
            raise
        return None
    plan = session.scalars(
        select(Plan)
        .where(Plan.id == plan_id)
        .options(
            selectinload(Plan.focus_areas)
            .selectinload(FocusArea.intervention_areas)
            .selectinload(InterventionArea.activities)
            .selectinload(Activity.owner)
        )
    ).one()
    return PlanView(
        slug=plan.slug,
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


def export_plan(session: Session, slug: str | None = None) -> dict[str, Any] | None:
    """The plan tree as JSON-ready data (`planflow plan export --format json`)."""
    tree = plan_tree(session, slug)
    if tree is None:
        return None
    return {
        "slug": tree.slug,
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


def get_activity(session: Session, plan: Plan, code: str) -> Activity:
    activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code))
    if activity is None:
        raise NotFound("error.activity.not_found", code=quote(code), plan=plan.title)
    return activity
