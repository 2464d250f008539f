"""Returned means returned everywhere: who sent a task back, when and why, read from the records
and the audit trail where the handlers keep it; one answer for the case (Returned, ReturnView)
and for the inbox row (returned_by_column, a part of the inbox's one query).

Where each return is kept:
- a status report: the report itself (review = returned, review_comment, reviewed_by_id);
- an area's summary: the event `area.returned` (reason: the process leader's comment);
- a recommendation: `deviation.recommendation_returned` (the lead's comment) and
  `deviation.decision_returned` (the steering group's rationale);
- a proposal: `proposal.returned` (the process leader's comment) and `proposal.sent_back`
  (the steering group's rationale);
- an annual report: the steering group's Decision `return` on it (its rationale)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, case, cast, select
from sqlalchemy.orm import Session

from ....models import AuditEvent, Decision, OpenTask, ProcessInstance, ReviewOutcome, StatusReport, User
from .builders import names_of
from .model import Returned, ReturnView

# The audit actions that return a task, and the task whose completion each one follows.
RETURN_STEPS = {
    "area.returned": "confirm_area",
    "deviation.recommendation_returned": "agree_recommendation",
    "deviation.decision_returned": "steering_decision",
    "proposal.returned": "check_proposal",
    "proposal.sent_back": "decide_proposal",
}
DEVIATION_RETURNS = ("deviation.recommendation_returned", "deviation.decision_returned")
PROPOSAL_RETURNS = ("proposal.returned", "proposal.sent_back")
RETURNS_SHOWN = 20  # a subject's last returns beside a form


def audit_returns(
    session: Session, actions: tuple[str, ...], subject_type: str, subject_id: object
) -> list[ReturnView]:
    """The last RETURNS_SHOWN returns of a subject recorded as these audit actions, oldest first."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(actions),
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id == str(subject_id),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(RETURNS_SHOWN)
    ).all()
    names = names_of(session, [e.actor for e in events])
    return [
        ReturnView(names[e.actor], e.occurred_at, RETURN_STEPS.get(e.action, e.action), e.reason)
        for e in reversed(events)
    ]


def area_returns(session: Session, area_number: int, review_id: int) -> list[ReturnView]:
    """The returns of one area review (the events name the area by number, their data the review)."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "area.returned",
            AuditEvent.subject_type == "focus_area",
            AuditEvent.subject_id == str(area_number),
            AuditEvent.data["review"].as_integer() == review_id,
        )
        .order_by(AuditEvent.seq.desc())
        .limit(RETURNS_SHOWN)
    ).all()
    names = names_of(session, [e.actor for e in events])
    return [ReturnView(names[e.actor], e.occurred_at, "confirm_area", e.reason) for e in reversed(events)]


def decision_returns(session: Session, subject_type: str, subject_id: int, step: str) -> list[ReturnView]:
    """A steering-group decision `return` on a subject, each as a return, oldest first."""
    rows = session.execute(
        select(Decision, User.display_name)
        .join(User, User.id == Decision.decided_by_id)
        .where(
            Decision.subject_type == subject_type,
            Decision.subject_id == subject_id,
            Decision.decision == "return",
        )
        .order_by(Decision.id.desc())
        .limit(RETURNS_SHOWN)
    ).all()
    return [ReturnView(name, d.decided_at, step, d.rationale or None) for d, name in reversed(rows)]


def last(returns: list[ReturnView]) -> Returned | None:
    """The latest return (of a list oldest first) as the case's banner says it."""
    if not returns:
        return None
    latest = returns[-1]
    return Returned(latest.by, latest.at, latest.reason, latest.step)


def returned_report(session: Session, cycle_id: int | None, activity_id: int | None) -> StatusReport | None:
    """The activity's last report of the cycle, when it was returned (the owner reports again)."""
    if cycle_id is None or activity_id is None:
        return None
    report = session.scalar(
        select(StatusReport)
        .where(StatusReport.cycle_id == cycle_id, StatusReport.activity_id == activity_id)
        .order_by(StatusReport.id.desc())
        .limit(1)
    )
    return report if report is not None and report.review is ReviewOutcome.RETURNED else None


def returned_by_column() -> Any:
    """Who returned an open task (their name), or null: a column of the inbox's query, read per
    row of the page it returns (a correlated subquery along an index), never per task open."""
    # The task's subject, read two levels down: correlated to the inbox's own open_task row.
    subject = select(ProcessInstance.subject_id).where(ProcessInstance.id == OpenTask.instance_id)
    subject_id = subject.correlate(OpenTask).scalar_subquery()

    def by_audit(actions: tuple[str, ...], subject_type: str) -> Any:
        return (
            select(User.display_name)
            .join(AuditEvent, AuditEvent.actor == User.username)
            .where(
                AuditEvent.action.in_(actions),
                AuditEvent.subject_type == subject_type,
                AuditEvent.subject_id == cast(subject_id, String),
            )
            .order_by(AuditEvent.seq.desc())
            .limit(1)
            .scalar_subquery()
        )

    report = (
        select(User.display_name)
        .join(StatusReport, StatusReport.reviewed_by_id == User.id)
        .where(
            StatusReport.cycle_id == OpenTask.cycle_id,
            StatusReport.activity_id == OpenTask.activity_id,
            StatusReport.review == ReviewOutcome.RETURNED,
        )
        .order_by(StatusReport.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    area = (
        select(User.display_name)
        .join(AuditEvent, AuditEvent.actor == User.username)
        .where(AuditEvent.action == "area.returned", AuditEvent.data["review"].as_integer() == subject_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    annual = (
        select(User.display_name)
        .join(Decision, Decision.decided_by_id == User.id)
        .where(
            Decision.subject_type == "annual_report",
            Decision.subject_id == subject_id,
            Decision.decision == "return",
        )
        .order_by(Decision.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case(
        (OpenTask.name == "report_status", report),
        (OpenTask.name == "area_summary", area),
        (OpenTask.name == "draft_recommendation", by_audit(DEVIATION_RETURNS, "deviation")),
        (OpenTask.name == "propose_activity", by_audit(PROPOSAL_RETURNS, "proposal")),
        (OpenTask.name == "compile_annual_report", annual),
        else_=None,
    )
