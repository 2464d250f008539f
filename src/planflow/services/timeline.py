"""An activity's story for the pages (reports, deviations, decisions, proposals, audit events as
small views), and who completed a task that is no longer open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import (
    Activity,
    ActivityProposal,
    AuditEvent,
    Decision,
    Deviation,
    ProcessInstance,
    ReportingCycle,
    StatusReport,
    User,
)
from .errors import NotFound, quote


@dataclass(frozen=True)
class ReportView:
    period: str | None
    status: str
    comment: str | None
    cause: str | None
    reporter: str
    reported_at: datetime
    review: str
    review_comment: str | None


@dataclass(frozen=True)
class DecisionView:
    decision: str
    rationale: str
    decided_by: str
    decided_at: datetime


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
    decisions: list[DecisionView]
    instance_id: int | None


@dataclass(frozen=True)
class ProposalView:
    id: int
    title: str | None
    state: str
    why: str | None
    created_at: datetime


@dataclass(frozen=True)
class EventView:
    seq: int
    occurred_at: datetime
    actor: str
    on_behalf_of: str | None
    action: str
    subject: str
    reason: str | None


@dataclass(frozen=True)
class ActivityHistory:
    code: str
    title: str
    description: str | None
    owner: str | None
    office: str | None
    status: str | None
    closed: bool
    is_demo: bool
    starts_on: object
    ends_on: object
    reports: list[ReportView]
    deviations: list[DeviationView]
    proposals: list[ProposalView]
    events: list[EventView]
    instances: list[tuple[int, str, str]]  # id, process, status


def activity(session: Session, code: str, plan_id: int, reports: int = 50) -> ActivityHistory:
    """An activity's whole story, newest first."""
    found = session.scalar(select(Activity).where(Activity.code == code, Activity.plan_id == plan_id))
    if found is None:
        raise NotFound("error.activity.not_found", code=quote(code))
    report_rows = session.execute(
        select(StatusReport, ReportingCycle.period, User.display_name)
        .outerjoin(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
        .join(User, User.id == StatusReport.reporter_id)
        .where(StatusReport.activity_id == found.id)
        .order_by(StatusReport.reported_at.desc(), StatusReport.id.desc())
        .limit(reports)
    ).all()
    deviation_rows = session.execute(
        select(Deviation, ReportingCycle.period)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(Deviation.activity_id == found.id)
        .order_by(Deviation.opened_at.desc(), Deviation.id.desc())
    ).all()
    deviation_ids = [d.id for d, _ in deviation_rows]
    decisions: dict[int, list[DecisionView]] = {}
    for decision, name in session.execute(
        select(Decision, User.display_name)
        .join(User, User.id == Decision.decided_by_id)
        .where(Decision.subject_type == "deviation", Decision.subject_id.in_(deviation_ids or [-1]))
        .order_by(Decision.decided_at, Decision.id)
    ).all():
        decisions.setdefault(decision.subject_id, []).append(
            DecisionView(decision.decision, decision.rationale, name, decision.decided_at)
        )
    instance_rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.process_id,
            ProcessInstance.status,
            ProcessInstance.subject_id,
            ProcessInstance.subject_type,
        )
        .where(ProcessInstance.activity_id == found.id)
        .order_by(ProcessInstance.id.desc())
    ).all()
    deviation_instance = {sid: iid for iid, _, _, sid, stype in instance_rows if stype == "deviation"}
    proposals = session.scalars(
        select(ActivityProposal).where(ActivityProposal.activity_id == found.id).order_by(ActivityProposal.id)
    ).all()
    task_ids = [row[0].task_id for row in report_rows if row[0].task_id]
    subjects = or_(
        (AuditEvent.subject_type == "activity") & (AuditEvent.subject_id == found.code),
        (AuditEvent.subject_type == "deviation") & AuditEvent.subject_id.in_([str(i) for i in deviation_ids]),
        (AuditEvent.subject_type == "task") & AuditEvent.subject_id.in_(task_ids),
        (AuditEvent.subject_type == "status_report")
        & AuditEvent.subject_id.in_([str(r[0].id) for r in report_rows]),
    )
    events = session.scalars(
        select(AuditEvent).where(subjects).order_by(AuditEvent.seq.desc()).limit(100)
    ).all()
    return ActivityHistory(
        code=found.code,
        title=found.title,
        description=found.description,
        owner=found.owner.display_name if found.owner else None,
        office=found.office,
        status=found.status.value if found.status else None,
        closed=found.state.value == "closed",
        is_demo=found.is_demo,
        starts_on=found.starts_on,
        ends_on=found.ends_on,
        reports=[
            ReportView(
                period,
                r.status.value,
                r.comment,
                r.cause,
                name,
                r.reported_at,
                r.review.value,
                r.review_comment,
            )
            for r, period, name in report_rows
        ],
        deviations=[
            DeviationView(
                d.id,
                period,
                d.level.value,
                d.cause,
                d.recommendation,
                d.state.value,
                d.opened_at,
                d.escalated_at,
                decisions.get(d.id, []),
                deviation_instance.get(d.id),
            )
            for d, period in deviation_rows
        ],
        proposals=[ProposalView(p.id, p.title, p.state.value, p.why, p.created_at) for p in proposals],
        events=[event_view(e) for e in events],
        instances=[(iid, pid, status.value) for iid, pid, status, _, _ in instance_rows],
    )


def event_view(event: AuditEvent) -> EventView:
    return EventView(
        event.seq,
        event.occurred_at,
        event.actor,
        event.on_behalf_of,
        event.action,
        f"{event.subject_type} {event.subject_id}",
        event.reason,
    )


@dataclass(frozen=True)
class Completion:
    by: str
    at: datetime


def completed_by(session: Session, task_id: str) -> Completion | None:
    """Who completed a task that is no longer open, from the audit trail, or None."""
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
