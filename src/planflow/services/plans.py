"""The plan: load it from its data file, read it as a tree for pages and exports, and the one rule
for editing an activity's title, owner, office and dates (the page and the Excel import alike)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock, resources
from ..engine.forms import CONTROL
from ..i18n import Message
from ..models import (
    Activity,
    ActivityProposal,
    ActivityState,
    Decision,
    FocusArea,
    InterventionArea,
    Plan,
    ProposalState,
    ReportingCycle,
    StatusReport,
    User,
)
from . import access, audit
from .access import UseCase
from .audit import Actor
from .errors import Conflict, InvalidInput, NotFound, quote

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
    """The plan named by `slug`, or the default plan (the first one loaded)."""
    query = select(Plan).order_by(Plan.id).limit(1)
    plan = session.scalar(query.where(Plan.slug == slug) if slug else query)
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
    """The whole plan (the default one unless `slug` names another) as a tree of views, in a few
    queries; None when no plan is loaded."""
    query = select(Plan).order_by(Plan.id).limit(1)
    plan = session.scalar(
        (query.where(Plan.slug == slug) if slug else query).options(
            selectinload(Plan.focus_areas)
            .selectinload(FocusArea.intervention_areas)
            .selectinload(InterventionArea.activities)
            .selectinload(Activity.owner)
        )
    )
    if plan is None:
        return None
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


def plan_status(session: Session, user: User, slug: str | None = None) -> dict[str, Any]:
    """The plan tree for someone who may read it, each activity with its last report."""
    access.require(session, Actor(user), UseCase.READ_PLAN)
    plan = get_plan(session, slug)
    exported = export_plan(session, plan.slug)
    assert exported is not None
    latest = (
        select(StatusReport.activity_id, func.max(StatusReport.id).label("report_id"))
        .join(Activity, Activity.id == StatusReport.activity_id)
        .where(Activity.plan_id == plan.id)
        .group_by(StatusReport.activity_id)
        .subquery()
    )
    last: dict[str, dict[str, Any]] = {}
    for code, report, period in session.execute(
        select(Activity.code, StatusReport, ReportingCycle.period)
        .join(latest, latest.c.activity_id == Activity.id)
        .join(StatusReport, StatusReport.id == latest.c.report_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
    ):
        last[code] = {
            "period": period,
            "status": report.status.value,
            "comment": report.comment,
            "reported_at": report.reported_at.isoformat(),
            "review": report.review.value,
        }
    for fa in exported["focus_areas"]:
        for ia in fa["intervention_areas"]:
            for activity in ia["activities"]:
                activity["last_report"] = last.get(activity["code"])
    return exported


# Editing an activity: the one rule, whoever edits (the page /admin/activities/<code>, a row of an
# Excel import). New activities come only through proposals and statuses only through the chain.

TITLE_LIMIT, OFFICE_LIMIT = 300, 200  # the columns' sizes
# A plan's activities run within this century; a date outside is a typing slip (0226 for 2026).
EARLIEST, LATEST = date(clock.FIRST_YEAR, 1, 1), date(clock.LAST_YEAR, 12, 31)


@dataclass(frozen=True)
class ActivityEdit:
    """An activity's editable facts: as they are (`of`), or as someone wants them (`clean`)."""

    title: str
    owner: str | None  # a username
    office: str | None
    starts_on: date | None
    ends_on: date | None

    @classmethod
    def clean(
        cls, title: str, owner: str | None, office: str | None, starts_on: date | None, ends_on: date | None
    ) -> ActivityEdit:
        """What was typed, trimmed: an empty owner or office is none."""
        return cls(
            title.strip(), (owner or "").strip() or None, (office or "").strip() or None, starts_on, ends_on
        )

    @classmethod
    def of(cls, activity: Activity) -> ActivityEdit:
        owner = activity.owner.username if activity.owner else None
        return cls(activity.title, owner, activity.office, activity.starts_on, activity.ends_on)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "owner": self.owner,
            "office": self.office,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
        }

    def version(self) -> str:
        """A short fingerprint of these facts: an edit form carries the one it was opened on, so
        that a save over someone else's newer save is refused instead of silently undoing it."""
        facts = json.dumps(self.as_dict(), default=str, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(facts.encode()).hexdigest()[:16]


def get_activity(session: Session, plan: Plan, code: str) -> Activity:
    activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code))
    if activity is None:
        raise NotFound("error.activity.not_found", code=quote(code), plan=plan.slug)
    return activity


def owner_choices(session: Session) -> list[tuple[str, str]]:
    """Who may own an activity (every active user), as (username, display name) by name."""
    return [
        (username, name)
        for username, name in session.execute(
            select(User.username, User.display_name)
            .where(User.active)
            .order_by(User.display_name, User.username)
        )
    ]


def _one_line_problem(text: str, limit: int) -> Message | None:
    if len(text) > limit:
        return Message("form.too_long", {"max": limit})
    # One line: a title or an office shows in lists, headings and a spreadsheet's cell.
    if CONTROL.search(text) or "\n" in text or "\t" in text:
        return Message("form.control_characters")
    return None


def _checked(
    session: Session, activity: Activity, edit: ActivityEdit
) -> tuple[dict[str, Message], User | None]:
    problems: dict[str, Message] = {}
    if not edit.title:
        problems["title"] = Message("form.empty")
    elif problem := _one_line_problem(edit.title, TITLE_LIMIT):
        problems["title"] = problem
    owner = None
    if edit.owner:
        owner = session.scalar(select(User).where(User.username == edit.owner))
        if owner is None or not owner.active:
            problems["owner"] = Message("form.no_active_user", {"username": quote(edit.owner)})
    elif activity.owner_id is not None:
        # Its open tasks are in its owner's lane: an owner is replaced, never removed.
        problems["owner"] = Message("form.owner_needed")
    if edit.office and (problem := _one_line_problem(edit.office, OFFICE_LIMIT)):
        problems["office"] = problem
    for name, day in (("starts_on", edit.starts_on), ("ends_on", edit.ends_on)):
        if day is not None and not EARLIEST <= day <= LATEST:
            problems[name] = Message("form.out_of_range", {"limit": f"{EARLIEST.year}–{LATEST.year}"})
    if edit.starts_on and edit.ends_on and edit.ends_on < edit.starts_on and "ends_on" not in problems:
        problems["ends_on"] = Message("form.before_start")
    return problems, owner


def activity_edit_problems(session: Session, activity: Activity, edit: ActivityEdit) -> dict[str, Message]:
    """What is wrong with which field of an edit (title, owner, office, starts_on, ends_on); empty
    when `update_activity` would apply it. The Excel import asks first, for every row, so that one
    bad row changes nothing."""
    return _checked(session, activity, edit)[0]


def update_activity(
    session: Session,
    actor: Actor,
    plan: Plan,
    activity_code: str,
    title: str,
    owner_username: str | None,
    office: str | None,
    starts_on: date | None,
    ends_on: date | None,
    seen: str | None = None,
) -> bool:
    """Set an activity's title, owner, office and dates (UseCase.EDIT_PLAN), audited as
    `activity.updated` with each changed field's before and after; whether anything changed.
    A bad field raises InvalidInput naming it, and nothing changes. `seen` is the version
    (ActivityEdit.version) the editor started from: when the activity has changed since, Conflict,
    and nothing changes (an Excel file states every row as it wants it, and passes none)."""
    actor = access.require(session, actor, UseCase.EDIT_PLAN)
    activity = get_activity(session, plan, activity_code)
    edit = ActivityEdit.clean(title, owner_username, office, starts_on, ends_on)
    return _edit(session, actor, plan, activity, edit, seen)


def change_activity(
    session: Session,
    actor: Actor,
    plan_slug: str | None,
    code: str,
    changes: dict[str, Any],
    seen: str | None,
) -> dict[str, Any]:
    """Change some of an activity's editable facts (those in `changes`; the rest stay as they are)
    as update_activity does: the same authority, checks, audit and refusal of an edit started
    before someone else's save (`seen`, when the caller has a version). Returns the facts as they
    now are, their version, and whether anything changed. A new owner is such a change
    (people.set_activity_owner): the office stays the activity's own."""
    actor = access.require(session, actor, UseCase.EDIT_PLAN)
    plan = get_plan(session, plan_slug)
    activity = get_activity(session, plan, code)
    edit = ActivityEdit.clean(**{**ActivityEdit.of(activity).as_dict(), **changes})
    changed = _edit(session, actor, plan, activity, edit, seen)
    now = ActivityEdit.of(activity)
    return {"code": code, **now.as_dict(), "version": now.version(), "changed": changed}


def _edit(
    session: Session, actor: Actor, plan: Plan, activity: Activity, edit: ActivityEdit, seen: str | None
) -> bool:
    """Apply `edit` to `activity` for an actor the authority has let edit the plan."""
    if seen is not None:
        session.execute(select(Activity.id).where(Activity.id == activity.id).with_for_update())
        session.refresh(activity)  # as the row is now that no one else may write it
        if seen != ActivityEdit.of(activity).version():
            raise Conflict("error.activity.changed_meanwhile", code=activity.code)
    problems, owner = _checked(session, activity, edit)
    if problems:
        raise InvalidInput("error.activity.invalid", fields=problems, code=activity.code)
    before, after = ActivityEdit.of(activity).as_dict(), edit.as_dict()
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if not changes:
        return False
    activity.title, activity.office, activity.owner = edit.title, edit.office, owner
    activity.starts_on, activity.ends_on = edit.starts_on, edit.ends_on
    session.flush()
    audit.record(
        session, actor, "activity.updated", "activity", activity.code, {"plan": plan.slug, "changes": changes}
    )
    return True


@dataclass(frozen=True)
class AddedActivity:
    """An activity the steering group added through a proposal, and which of its facts are empty."""

    code: str
    title: str
    owner: str | None
    owner_name: str | None
    office: str | None
    starts_on: date | None
    ends_on: date | None
    decided_at: datetime | None
    missing: tuple[str, ...]


def added_activities(session: Session, actor: Actor, plan: Plan, limit: int = 20) -> list[AddedActivity]:
    """The activities most recently added by approved proposals, newest first: what the process
    leader completes (an office, dates) once the steering group has decided."""
    access.require(session, actor, UseCase.EDIT_PLAN)
    rows = session.execute(
        select(Activity, Decision.decided_at)
        .join(ActivityProposal, ActivityProposal.activity_id == Activity.id)
        .outerjoin(
            Decision,
            (Decision.subject_type == "proposal")
            & (Decision.subject_id == ActivityProposal.id)
            & (Decision.decision == "approve"),
        )
        .where(Activity.plan_id == plan.id, ActivityProposal.state == ProposalState.APPROVED)
        .options(selectinload(Activity.owner))
        .order_by(ActivityProposal.id.desc())
        .limit(limit)
    ).all()
    added = []
    for activity, decided_at in rows:
        facts = ActivityEdit.of(activity).as_dict()
        added.append(
            AddedActivity(
                code=activity.code,
                title=activity.title,
                owner=facts["owner"],
                owner_name=activity.owner.display_name if activity.owner else None,
                office=activity.office,
                starts_on=activity.starts_on,
                ends_on=activity.ends_on,
                decided_at=decided_at,
                missing=tuple(key for key, value in facts.items() if value is None),
            )
        )
    return added
