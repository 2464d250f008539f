"""The reporting chain of one period: owners report, leads review, areas are reconciled, the
process leader holds the business dialogue, the steering group meets."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..engine import FormError
from ..models import (
    Activity,
    ActivityState,
    AreaReview,
    BusinessDialogue,
    CycleState,
    Deviation,
    DeviationState,
    DialogueFeedback,
    FocusArea,
    InstanceState,
    InterventionArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    Role,
    Status,
    StatusReport,
    SteeringMeeting,
    User,
)
from . import access, audit, deviations, instances
from .audit import Actor
from .errors import Conflict, Forbidden, InvalidInput, NotFound, excerpt
from .steps import Step, complete, on_complete, signal, start_process

PERIOD = re.compile(r"^\d{4}-(Q[1-4]|T[1-3]|H[12]|0[1-9]|1[0-2])$")


def start_cycle(
    session: Session, actor: Actor, period: str, deadline: date, escalation_days: int = 14
) -> ReportingCycle:
    """Open a reporting cycle: a status-report task for the owner of every active activity,
    and the cycle's own process waiting for the areas to be reconciled."""
    if not PERIOD.match(period):
        raise InvalidInput(f"period {excerpt(period)}: write it as e.g. 2026-Q4, 2026-T2, 2026-H1 or 2026-11")
    if deadline < clock.now().date():
        raise InvalidInput(f"the deadline {deadline} has already passed")
    if not 1 <= escalation_days <= 365:
        raise InvalidInput(f"escalation after {escalation_days} days: give 1 to 365 days")
    if session.scalar(select(ReportingCycle.id).where(ReportingCycle.period == period)) is not None:
        raise Conflict(f"a reporting cycle for {period} already exists")
    cycle = ReportingCycle(
        period=period, deadline=deadline, escalation_days=escalation_days, started_at=clock.now()
    )
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        actor,
        "cycle.started",
        "cycle",
        period,
        {"deadline": deadline, "escalation_days": escalation_days},
    )
    start_process(
        session,
        actor,
        "reporting_cycle",
        instances.Subject(cycle_id=cycle.id, subject_type="cycle", subject_id=cycle.id, due_on=deadline),
        {"period": period, "deadline": deadline.isoformat()},
    )
    rows = session.execute(
        select(Activity, InterventionArea.focus_area_id)
        .join(InterventionArea, Activity.intervention_area_id == InterventionArea.id)
        .where(Activity.state == ActivityState.ACTIVE)
        .order_by(Activity.id)
    ).all()
    for activity, focus_area_id in rows:
        start_process(
            session,
            actor,
            "activity_report",
            instances.Subject(cycle.id, focus_area_id, activity.id, "activity", activity.id, deadline),
            {
                "period": period,
                "deadline": deadline.isoformat(),
                "activity_code": activity.code,
                "activity_title": activity.title,
            },
        )
    areas_with_reports = {area for _, area in rows}
    for area_id in session.scalars(select(FocusArea.id).order_by(FocusArea.number)):
        if area_id not in areas_with_reports:
            _start_reconciliation(session, actor, cycle, area_id)
    return cycle


def reports_due(session: Session, cycle_id: int) -> int:
    """How many status reports of a cycle are still to be made."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OpenTask)
            .where(OpenTask.cycle_id == cycle_id, OpenTask.name == "report_status")
        )
        or 0
    )


def get_cycle(session: Session, period: str) -> ReportingCycle:
    cycle = session.scalar(select(ReportingCycle).where(ReportingCycle.period == period))
    if cycle is None:
        raise NotFound(f"no reporting cycle {period!r}")
    return cycle


def _cycle(session: Session, step: Step) -> ReportingCycle:
    cycle = session.get(ReportingCycle, step.instance.cycle_id)
    assert cycle is not None, "every reporting instance belongs to a cycle"
    return cycle


def _activity(session: Session, step: Step) -> Activity:
    activity = session.get(Activity, step.instance.activity_id)
    assert activity is not None, "every activity report is about an activity"
    return activity


@on_complete("report_status")
def _reported(session: Session, step: Step, data: dict[str, Any]) -> None:
    activity = _activity(session, step)
    report = StatusReport(
        cycle_id=step.instance.cycle_id,
        activity_id=activity.id,
        task_id=step.task_id,
        reporter_id=step.by.id,
        status=Status(data["status"]),
        comment=data.get("comment"),
        cause=data.get("cause") if data["status"] != "green" else None,
        reported_at=clock.now(),
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        step.actor,
        "status.reported",
        "activity",
        activity.code,
        {"status": report.status, "comment": report.comment, "cause": report.cause, "report": report.id},
        report.cause,
    )


def _pending_report(session: Session, step: Step) -> StatusReport:
    report = session.scalar(
        select(StatusReport)
        .where(
            StatusReport.cycle_id == step.instance.cycle_id,
            StatusReport.activity_id == step.instance.activity_id,
            StatusReport.review == ReviewOutcome.PENDING,
        )
        .order_by(StatusReport.id.desc())
    )
    assert report is not None, "a review follows a report"
    return report


@on_complete("review_report")
def _reviewed(session: Session, step: Step, data: dict[str, Any]) -> None:
    activity = _activity(session, step)
    report = _pending_report(session, step)
    report.reviewed_by_id = step.by.id
    report.reviewed_at = clock.now()
    report.review_comment = data.get("comment")
    if data["outcome"] == "return":
        report.review = ReviewOutcome.RETURNED
        audit.record(
            session,
            step.actor,
            "status.returned",
            "activity",
            activity.code,
            {"report": report.id},
            data.get("comment"),
        )
        return
    report.review = ReviewOutcome.ACCEPTED
    activity.status, activity.status_changed_at = report.status, clock.now()
    audit.record(
        session,
        step.actor,
        "status.accepted",
        "activity",
        activity.code,
        {"report": report.id, "status": report.status},
        data.get("comment"),
    )
    if report.status.is_deviation:
        deviations.open_deviation(session, step.actor, report)
    cycle = _cycle(session, step)
    others_running = session.scalar(
        select(func.count())
        .select_from(ProcessInstance)
        .where(
            ProcessInstance.process_id == "activity_report",
            ProcessInstance.cycle_id == cycle.id,
            ProcessInstance.focus_area_id == step.instance.focus_area_id,
            ProcessInstance.status == InstanceState.RUNNING,
            ProcessInstance.id != step.instance.id,
        )
    )
    if others_running == 0 and step.instance.focus_area_id is not None:
        _start_reconciliation(session, step.actor, cycle, step.instance.focus_area_id)


def _start_reconciliation(session: Session, actor: Actor, cycle: ReportingCycle, focus_area_id: int) -> None:
    """All of an area's reports are accepted: the lead reconciles the area with the process leader."""
    if session.scalar(
        select(AreaReview.id).where(
            AreaReview.cycle_id == cycle.id, AreaReview.focus_area_id == focus_area_id
        )
    ):
        return
    review = AreaReview(cycle_id=cycle.id, focus_area_id=focus_area_id)
    session.add(review)
    session.flush()
    area = session.get(FocusArea, focus_area_id)
    start_process(
        session,
        actor,
        "area_reconciliation",
        instances.Subject(cycle.id, focus_area_id, None, "area_review", review.id, cycle.deadline),
        {"period": cycle.period, "focus_area": area.number if area else None},
    )


@on_complete("area_summary")
def _summarised(session: Session, step: Step, data: dict[str, Any]) -> None:
    review = step.subject(session, AreaReview)
    review.summary, review.summarised_by_id = data["summary"], step.by.id
    audit.record(
        session,
        step.actor,
        "area.summarised",
        "focus_area",
        review.focus_area.number,
        {"period": _cycle(session, step).period, "summary": data["summary"]},
    )


@on_complete("confirm_area")
def _confirmed(session: Session, step: Step, data: dict[str, Any]) -> None:
    review = step.subject(session, AreaReview)
    cycle = _cycle(session, step)
    review.outcome, review.comment = data["outcome"], data.get("comment")
    action = "area.confirmed" if data["outcome"] == "confirm" else "area.returned"
    audit.record(
        session,
        step.actor,
        action,
        "focus_area",
        review.focus_area.number,
        {"period": cycle.period},
        data.get("comment"),
    )
    if data["outcome"] != "confirm":
        return
    review.confirmed_at = clock.now()
    session.flush()
    confirmed = session.scalar(
        select(func.count())
        .select_from(AreaReview)
        .where(AreaReview.cycle_id == cycle.id, AreaReview.confirmed_at.is_not(None))
    )
    if confirmed == session.scalar(select(func.count()).select_from(FocusArea)):
        cycle_instance = session.scalars(
            select(ProcessInstance).where(
                ProcessInstance.process_id == "reporting_cycle", ProcessInstance.cycle_id == cycle.id
            )
        ).one()
        audit.record(session, step.actor, "cycle.areas_confirmed", "cycle", cycle.period)
        signal(session, step.actor, cycle_instance, "all_areas_confirmed")


@on_complete("business_dialogue")
def _dialogue_held(session: Session, step: Step, data: dict[str, Any]) -> None:
    cycle = _cycle(session, step)
    session.add(
        BusinessDialogue(
            cycle_id=cycle.id,
            forums=data["forums"],
            held_on=date.fromisoformat(data["held_on"]),
            heard=data["heard"],
            ideas=data.get("ideas"),
            recorded_by_id=step.by.id,
            recorded_at=clock.now(),
        )
    )
    audit.record(session, step.actor, "dialogue.recorded", "cycle", cycle.period, data)


def open_for_feedback(session: Session) -> list[str]:
    """The periods whose business dialogue is open, so dialogue users can add feedback."""
    return list(
        session.scalars(
            select(ReportingCycle.period)
            .join(OpenTask, OpenTask.cycle_id == ReportingCycle.id)
            .where(OpenTask.name == "business_dialogue")
            .order_by(ReportingCycle.period)
        )
    )


def give_dialogue_feedback(session: Session, user: User, period: str, data: Any) -> DialogueFeedback:
    """A business-organisation representative adds feedback while the dialogue step is open."""
    if not access.has_role(user, Role.DIALOGUE):
        raise Forbidden(f"{user.username} does not speak for a business organisation (role dialogue)")
    cycle = get_cycle(session, period)
    open_dialogue = session.scalar(
        select(OpenTask.id).where(OpenTask.cycle_id == cycle.id, OpenTask.name == "business_dialogue")
    )
    if open_dialogue is None:
        raise Conflict(f"the business dialogue of {period} is not open for feedback")
    try:
        clean = instances.library().forms.get("dialogue_feedback").validate(data)
    except FormError as exc:
        raise InvalidInput(str(exc), exc.errors) from None
    feedback = DialogueFeedback(
        cycle_id=cycle.id, author_id=user.id, feedback=clean["feedback"], given_at=clock.now()
    )
    session.add(feedback)
    session.flush()
    audit.record(session, Actor(user, None, "dialogue"), "dialogue.feedback", "cycle", period, clean)
    return feedback


@on_complete("steering_meeting")
def _meeting_closed(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The chair closes the meeting: minutes, priorities and a decision on every deviation that
    awaits the steering group."""
    cycle = _cycle(session, step)
    awaiting = {
        str(deviation.id): task
        for deviation, task in session.execute(
            select(Deviation, OpenTask)
            .join(
                ProcessInstance,
                (ProcessInstance.subject_type == "deviation") & (ProcessInstance.subject_id == Deviation.id),
            )
            .join(OpenTask, OpenTask.instance_id == ProcessInstance.id)
            .where(OpenTask.name == "steering_decision", Deviation.state != DeviationState.DECIDED)
        )
    }
    decisions: dict[str, dict[str, str]] = data.get("decisions") or {}
    undecided = sorted(set(awaiting) - set(decisions), key=int)
    unknown = sorted(set(decisions) - set(awaiting), key=int)
    if undecided or unknown:
        errors = {f"decisions.{d}": "awaits a decision in this meeting" for d in undecided}
        errors |= {f"decisions.{d}": "is not a deviation awaiting the steering group" for d in unknown}
        raise InvalidInput("the meeting must decide exactly the deviations awaiting it", errors)
    for deviation_id, decision in sorted(decisions.items(), key=lambda item: int(item[0])):
        complete(session, step.actor, awaiting[deviation_id], decision, ["decision", "rationale"])
    session.add(
        SteeringMeeting(
            cycle_id=cycle.id,
            notes=data["notes"],
            priorities=data.get("priorities"),
            closed_by_id=step.by.id,
            closed_at=clock.now(),
        )
    )
    step.decide(session, "steering_meeting", cycle.id, "noted", data["notes"])
    cycle.state, cycle.reported_at = CycleState.REPORTED, clock.now()
    audit.record(
        session,
        step.actor,
        "steering.meeting_closed",
        "cycle",
        cycle.period,
        {"notes": data["notes"], "priorities": data.get("priorities"), "decided": sorted(decisions, key=int)},
    )
