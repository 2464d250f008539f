"""Editing an activity: the one rule, whoever edits (the page /admin/activities/<code>, a row of an
Excel import, the API's owner change). New activities come only through proposals and statuses only
through the chain; added_activities lists those proposals added, for the process leader to complete."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ... import clock
from ...engine.forms import CONTROL
from ...i18n import Message
from ...models import Activity, ActivityProposal, Decision, Plan, ProposalState, User
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput, quote
from ..records import audit
from ..records.audit import Actor
from .plans import get_activity, get_plan

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


@dataclass(frozen=True)
class PersonChoice:
    """Someone who may own an activity, as a list to pick from shows them."""

    username: str  # what a form sends
    name: str
    office: str | None


def people_to_choose(session: Session) -> list[PersonChoice]:
    """Who may own an activity (every active user), by name: the one list every form that names an
    activity's owner offers (an activity's edit, a proposal); the services check the name sent."""
    return [
        PersonChoice(username, name, office)
        for username, name, office in session.execute(
            select(User.username, User.display_name, User.office)
            .where(User.active)
            .order_by(User.display_name, User.username)
        )
    ]


def owner_choices(session: Session) -> list[tuple[str, str]]:
    """Who may own an activity (people_to_choose), as (username, display name)."""
    return [(person.username, person.name) for person in people_to_choose(session)]


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
    """What is wrong with which field of `edit`, and the user it names as owner (if any such)."""
    problems: dict[str, Message] = {}
    if not edit.title:
        problems["title"] = Message("form.empty")
    elif problem := _one_line_problem(edit.title, TITLE_LIMIT):
        problems["title"] = problem
    problem, owner = _owner_checked(session, activity, edit.owner)
    if problem:
        problems["owner"] = problem
    if edit.office and (problem := _one_line_problem(edit.office, OFFICE_LIMIT)):
        problems["office"] = problem
    problems.update(_dates_checked(edit))
    return problems, owner


def _owner_checked(
    session: Session, activity: Activity, username: str | None
) -> tuple[Message | None, User | None]:
    """The user `username` names, and what is wrong with making them the activity's owner."""
    if username:
        owner = session.scalar(select(User).where(User.username == username))
        if owner is None or not owner.active:
            return Message("form.no_active_user", {"username": quote(username)}), owner
        return None, owner
    if activity.owner_id is not None:
        # Its open tasks are in its owner's lane: an owner is replaced, never removed.
        return Message("form.owner_needed"), None
    return None, None


def _dates_checked(edit: ActivityEdit) -> dict[str, Message]:
    """What is wrong with the dates: each within the century, and the end not before the start."""
    problems: dict[str, Message] = {}
    for name, day in (("starts_on", edit.starts_on), ("ends_on", edit.ends_on)):
        if day is not None and not EARLIEST <= day <= LATEST:
            problems[name] = Message("form.out_of_range", {"limit": f"{EARLIEST.year}–{LATEST.year}"})
    if edit.starts_on and edit.ends_on and edit.ends_on < edit.starts_on and "ends_on" not in problems:
        problems["ends_on"] = Message("form.before_start")
    return problems


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
