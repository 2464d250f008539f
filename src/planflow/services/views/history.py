"""What happened, read back: an activity's story (its reports with their review, deviations with
their decisions, proposals, processes and audit events) as small views that the pages show and
the API sends as they are (to_json), and who completed a task that is no longer open. Internal
reading: the authority says who may (access.UseCase.READ_INTERNAL). The audit trail's own search
is services.trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ...models import (
    Activity,
    ActivityProposal,
    AuditEvent,
    CompletedTask,
    Decision,
    Deviation,
    ProcessInstance,
    ReportingCycle,
    StatusReport,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import NotFound, quote
from ..plan import activity_edits, plans
from ..records import trail
from ..records.audit import Actor
from ..records.trail import EventView
from .plain import PAGES_ONLY, to_json

ACTIVITY_REPORTS = 100  # an activity's story holds its last reports
ACTIVITY_EVENTS = trail.AUDIT_PAGE_MAX  # and its last audit events


@dataclass(frozen=True)
class ReportView:
    period: str | None
    status: str
    comment: str | None
    cause: str | None
    reporter: str  # username
    reported_at: datetime
    review: str
    review_comment: str | None
    reporter_name: str = field(metadata=PAGES_ONLY)
    task_id: str | None = field(metadata=PAGES_ONLY)


@dataclass(frozen=True)
class DecisionView:
    subject_type: str
    subject_id: int
    body: str
    decision: str
    rationale: str
    decided_by: str  # username
    on_behalf_of: str | None
    decided_at: datetime
    decided_by_name: str = field(metadata=PAGES_ONLY)


@dataclass(frozen=True)
class DeviationView:
    id: int
    period: str | None
    level: str
    cause: str
    recommendation: str | None
    state: str
    opened_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None
    decisions: list[DecisionView]  # oldest first
    instance_id: int | None = field(metadata=PAGES_ONLY)  # the process that handles it


@dataclass(frozen=True)
class ProposalView:
    id: int
    title: str | None
    state: str
    why: str | None
    created_at: datetime


@dataclass(frozen=True)
class ActivityStory:
    plan: str
    code: str
    title: str
    description: str | None
    owner: str | None  # username
    office: str | None
    starts_on: date | None
    ends_on: date | None
    state: str
    status: str | None
    demo: bool
    reports: list[ReportView]  # newest first
    deviations: list[DeviationView]  # newest first
    proposals: list[ProposalView]  # oldest first
    events: list[EventView]  # newest first
    version: str  # of the editable facts (activity_edits.ActivityEdit): what an edit says it started from
    owner_name: str | None = field(metadata=PAGES_ONLY)
    instances: list[tuple[int, str, str]] = field(metadata=PAGES_ONLY)  # id, process, status, newest first


def reports(session: Session, activity_id: int, limit: int) -> list[ReportView]:
    """An activity's last `limit` status reports, newest first, with their review."""
    rows = session.execute(
        select(StatusReport, ReportingCycle.period, User.username, User.display_name)
        .outerjoin(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
        .join(User, User.id == StatusReport.reporter_id)
        .where(StatusReport.activity_id == activity_id)
        .order_by(StatusReport.id.desc())
        .limit(limit)
    ).all()
    return [
        ReportView(
            period,
            r.status.value,
            r.comment,
            r.cause,
            username,
            r.reported_at,
            r.review.value,
            r.review_comment,
            name,
            r.task_id,
        )
        for r, period, username, name in rows
    ]


def decisions_on(session: Session, subject_type: str, subject_ids: Sequence[int]) -> list[DecisionView]:
    """The decisions recorded on these subjects, oldest first, with their rationale."""
    if not subject_ids:
        return []
    behalf = aliased(User)
    rows = session.execute(
        select(Decision, User.username, User.display_name, behalf.username)
        .join(User, User.id == Decision.decided_by_id)
        .outerjoin(behalf, behalf.id == Decision.on_behalf_of_id)
        .where(Decision.subject_type == subject_type, Decision.subject_id.in_(subject_ids))
        .order_by(Decision.id)
    ).all()
    return [
        DecisionView(
            d.subject_type,
            d.subject_id,
            d.body.value,
            d.decision,
            d.rationale,
            username,
            on_behalf_of,
            d.decided_at,
            name,
        )
        for d, username, name, on_behalf_of in rows
    ]


def deviations(
    session: Session, activity_id: int, instances: Mapping[int, int] | None = None
) -> list[DeviationView]:
    """An activity's deviations, newest first, each with its decisions (and the process that
    handles it, from `instances`: deviation id -> process instance id)."""
    rows = session.execute(
        select(Deviation, ReportingCycle.period)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(Deviation.activity_id == activity_id)
        .order_by(Deviation.id.desc())
    ).all()
    return deviation_views(session, rows, instances)


def deviation_views(
    session: Session,
    rows: Sequence[tuple[Deviation, str | None]],
    instances: Mapping[int, int] | None = None,
) -> list[DeviationView]:
    """Deviations, each with its cycle's period, as views with their decisions (one query)."""
    instances = instances or {}
    decided: dict[int, list[DecisionView]] = defaultdict(list)
    for decision in decisions_on(session, "deviation", [d.id for d, _ in rows]):
        decided[decision.subject_id].append(decision)
    return [
        DeviationView(
            d.id,
            period,
            d.level.value,
            d.cause,
            d.recommendation,
            d.state.value,
            d.opened_at,
            d.escalated_at,
            d.decided_at,
            decided[d.id],
            instances.get(d.id),
        )
        for d, period in rows
    ]


def find_activity(session: Session, code: str, plan_slug: str | None = None) -> Activity:
    """The activity with this code in the plan (the default plan when None), or NotFound."""
    plan = plans.get_plan(session, plan_slug)
    activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code))
    if activity is None:
        raise NotFound("error.activity.not_found", code=quote(code), plan=plan.title)
    return activity


def story(session: Session, activity: Activity, *, reports_limit: int, events_limit: int) -> ActivityStory:
    """An activity's story: its last reports, its deviations with their decisions, the proposal
    it came from, its processes and its last audit events (none when `events_limit` is 0): what
    the audit search by this activity finds (trail.about_activity). The activity page and the API
    tell it through activity_story; a task's page shows its start."""
    instance_rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.process_id,
            ProcessInstance.status,
            ProcessInstance.subject_type,
            ProcessInstance.subject_id,
        )
        .where(ProcessInstance.activity_id == activity.id)
        .order_by(ProcessInstance.id.desc())
    ).all()
    handling = {
        sid: iid for iid, _, _, stype, sid in instance_rows if stype == "deviation" and sid is not None
    }
    told = reports(session, activity.id, reports_limit)
    deviated = deviations(session, activity.id, handling)
    proposals = session.scalars(
        select(ActivityProposal)
        .where(ActivityProposal.activity_id == activity.id)
        .order_by(ActivityProposal.id)
    ).all()
    events = trail.activity_events(session, activity, events_limit) if events_limit else []
    owner = activity.owner
    return ActivityStory(
        plan=activity.plan.slug,
        code=activity.code,
        title=activity.title,
        description=activity.description,
        owner=owner.username if owner else None,
        office=activity.office,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        state=activity.state.value,
        status=activity.status.value if activity.status else None,
        demo=activity.is_demo,
        reports=told,
        deviations=deviated,
        proposals=[ProposalView(p.id, p.title, p.state.value, p.why, p.created_at) for p in proposals],
        events=events,
        version=activity_edits.ActivityEdit.of(activity).version(),
        owner_name=owner.display_name if owner else None,
        instances=[(iid, pid, status.value) for iid, pid, status, _, _ in instance_rows],
    )


def activity_story(session: Session, asking: User, code: str, plan_slug: str | None = None) -> ActivityStory:
    """One activity's story as the activity page and the API tell it, for someone who may read
    internal records: its plan entry, its last ACTIVITY_REPORTS reports, its deviations with their
    decisions, the proposal it came from, its processes and its last ACTIVITY_EVENTS audit events
    (the audit search by activity: trail.about_activity)."""
    access.require(session, Actor(asking), UseCase.READ_INTERNAL)
    activity = find_activity(session, code, plan_slug)
    return story(session, activity, reports_limit=ACTIVITY_REPORTS, events_limit=ACTIVITY_EVENTS)


def activity_history(session: Session, user: User, code: str, plan_slug: str | None = None) -> dict[str, Any]:
    """The activity's story as the API sends it (to_json)."""
    return to_json(activity_story(session, user, code, plan_slug))


@dataclass(frozen=True)
class Completion:
    by: str  # the name of who completed it
    at: datetime
    name: str | None = None  # the task's form, where it is known (every task completed since 0013)
    on_behalf_of: str | None = None  # the name of the absent person a substitute completed it for


def completed_by(session: Session, task_id: str) -> Completion | None:
    """Who completed a task that is no longer open, and when: from its completion record
    (CompletedTask, kept for every task completed since it was added), else, for a task completed
    before, from the records that name their task or from the audit trail; or None."""
    behalf = aliased(User)
    done = session.execute(
        select(CompletedTask, User.display_name, behalf.display_name)
        .join(User, User.id == CompletedTask.completed_by_id)
        .outerjoin(behalf, behalf.id == CompletedTask.on_behalf_of_id)
        .where(CompletedTask.id == task_id)
    ).first()
    if done is not None:
        task, by, for_whom = done
        return Completion(by, task.completed_at, task.name, for_whom)
    for model, who, when in (
        (StatusReport, StatusReport.reporter_id, StatusReport.reported_at),
        (Decision, Decision.decided_by_id, Decision.decided_at),
    ):
        row = session.execute(
            select(User.display_name, when).join(model, who == User.id).where(model.task_id == task_id)
        ).first()
        if row is not None:
            return Completion(row[0], row[1])
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "task", AuditEvent.subject_id == task_id)
        .where(
            AuditEvent.action.like("task.%"),
            AuditEvent.action.not_in(
                ["task.claimed", "task.unclaimed", "task.draft_saved", "task.reassigned"]
            ),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    if event is None:
        return None
    name = session.scalar(select(User.display_name).where(User.username == event.actor))
    return Completion(name or event.actor, event.occurred_at)
