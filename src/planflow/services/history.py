"""What happened, read back: an activity's reports, deviations and decisions, the audit trail
queried with filters and a cursor, and the chain's head. Internal reading: the authority says who
may (access.UseCase.READ_INTERNAL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ..i18n import Message
from ..models import (
    Activity,
    ActivityProposal,
    AuditEvent,
    AuditHead,
    Decision,
    Deviation,
    ReportingCycle,
    StatusReport,
    User,
)
from . import access, audit, plans
from .access import UseCase
from .audit import Actor, Verification
from .errors import InvalidInput, NotFound, quote

AUDIT_PAGE = 50
AUDIT_PAGE_MAX = 200


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def reports_of(session: Session, activity_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """An activity's status reports, newest first, with their review."""
    rows = session.execute(
        select(StatusReport, ReportingCycle.period, User.username)
        .outerjoin(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
        .join(User, User.id == StatusReport.reporter_id)
        .where(StatusReport.activity_id == activity_id)
        .order_by(StatusReport.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "period": period,
            "status": report.status.value,
            "comment": report.comment,
            "cause": report.cause,
            "reporter": reporter,
            "reported_at": _iso(report.reported_at),
            "review": report.review.value,
            "review_comment": report.review_comment,
        }
        for report, period, reporter in rows
    ]


def decisions_on(session: Session, subject_type: str, subject_ids: list[int]) -> list[dict[str, Any]]:
    """The decisions recorded on these subjects, oldest first, with their rationale."""
    if not subject_ids:
        return []
    behalf = aliased(User)
    rows = session.execute(
        select(Decision, User.username, behalf.username)
        .join(User, User.id == Decision.decided_by_id)
        .outerjoin(behalf, behalf.id == Decision.on_behalf_of_id)
        .where(Decision.subject_type == subject_type, Decision.subject_id.in_(subject_ids))
        .order_by(Decision.id)
    ).all()
    return [
        {
            "subject_type": decision.subject_type,
            "subject_id": decision.subject_id,
            "body": decision.body.value,
            "decision": decision.decision,
            "rationale": decision.rationale,
            "decided_by": decided_by,
            "on_behalf_of": on_behalf_of,
            "decided_at": _iso(decision.decided_at),
        }
        for decision, decided_by, on_behalf_of in rows
    ]


def deviations_of(session: Session, activity_id: int) -> list[dict[str, Any]]:
    """An activity's deviations, newest first: cause, recommendation, state and decisions."""
    rows = session.execute(
        select(Deviation, ReportingCycle.period)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(Deviation.activity_id == activity_id)
        .order_by(Deviation.id.desc())
    ).all()
    decisions = decisions_on(session, "deviation", [d.id for d, _ in rows])
    return [
        deviation_dict(d, period, [x for x in decisions if x["subject_id"] == d.id]) for d, period in rows
    ]


def deviation_dict(
    deviation: Deviation, period: str | None, decisions: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": deviation.id,
        "period": period,
        "level": deviation.level.value,
        "cause": deviation.cause,
        "recommendation": deviation.recommendation,
        "state": deviation.state.value,
        "opened_at": _iso(deviation.opened_at),
        "escalated_at": _iso(deviation.escalated_at),
        "decided_at": _iso(deviation.decided_at),
        "decisions": decisions,
    }


def _about_activity(code: str) -> Any:
    return or_(
        (AuditEvent.subject_type == "activity") & (AuditEvent.subject_id == code),
        AuditEvent.data["activity"].as_string() == code,
    )


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": _iso(event.occurred_at),
        "actor": event.actor,
        "on_behalf_of": event.on_behalf_of,
        "role": event.role,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
        "reason": event.reason,
        "hash": event.hash,
    }


def activity_history(session: Session, user: User, code: str, plan_slug: str | None = None) -> dict[str, Any]:
    """One activity: its plan entry, status history, deviations with their decisions, the
    proposal it came from, and its audit events (newest first)."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    plan = plans.get_plan(session, plan_slug)
    activity = session.scalar(select(Activity).where(Activity.plan_id == plan.id, Activity.code == code))
    if activity is None:
        raise NotFound("error.activity.not_found", code=quote(code), plan=plan.slug)
    proposals = session.scalars(
        select(ActivityProposal)
        .where(ActivityProposal.activity_id == activity.id)
        .order_by(ActivityProposal.id)
    ).all()
    events = session.scalars(
        select(AuditEvent).where(_about_activity(code)).order_by(AuditEvent.seq.desc()).limit(AUDIT_PAGE_MAX)
    ).all()
    return {
        "plan": plan.slug,
        "code": activity.code,
        "title": activity.title,
        "description": activity.description,
        "owner": activity.owner.username if activity.owner else None,
        "office": activity.office,
        "starts_on": _iso(activity.starts_on),
        "ends_on": _iso(activity.ends_on),
        "state": activity.state.value,
        "status": activity.status.value if activity.status else None,
        "demo": activity.is_demo,
        "reports": reports_of(session, activity.id, limit=100),
        "deviations": deviations_of(session, activity.id),
        "proposals": [
            {
                "id": p.id,
                "title": p.title,
                "state": p.state.value,
                "why": p.why,
                "created_at": _iso(p.created_at),
            }
            for p in proposals
        ],
        "events": [event_dict(e) for e in events],
    }


def audit_page(
    session: Session,
    user: User,
    activity: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = AUDIT_PAGE,
) -> dict[str, Any]:
    """Audit events, newest first, filtered; `next_cursor` continues after the last one."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit + 1)
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput("error.input.invalid", fields={"cursor": Message("form.cursor")})
        query = query.where(AuditEvent.seq < int(cursor))
    if activity is not None:
        query = query.where(_about_activity(activity))
    if actor is not None:
        query = query.where(or_(AuditEvent.actor == actor, AuditEvent.on_behalf_of == actor))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    events = session.scalars(query).all()
    more = len(events) > limit
    events = events[:limit]
    return {
        "items": [event_dict(e) for e in events],
        "next_cursor": str(events[-1].seq) if more and events else None,
    }


def audit_head(session: Session, user: User) -> dict[str, Any]:
    """The chain's latest event (sequence number and hash), for checkpoints kept elsewhere."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    head = session.get(AuditHead, 1)
    if head is None:
        raise NotFound("error.audit.no_head")
    return {"seq": head.seq, "hash": head.hash}


def verify_chain(session: Session, user: User) -> Verification:
    """Walk the whole chain (audit.verify) for someone who may read internal records."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    return audit.verify(session)
