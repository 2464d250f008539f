"""The reporting chain of one period: owners report, leads review, areas are reconciled, the
process leader holds the business dialogue, the steering group meets."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .. import clock
from ..engine import FormError
from ..i18n import Message
from ..models import (
    RUNNING_ONLY,
    Activity,
    ActivityState,
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    CycleState,
    DialogueFeedback,
    FocusArea,
    InterventionArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    Status,
    StatusReport,
    SteeringMeeting,
    User,
)
from . import access, audit, deviations, instances, plans
from .access import UseCase
from .audit import SYSTEM_ACTOR, Actor
from .errors import Conflict, InvalidInput, NotFound, quote
from .steps import Step, on_complete, on_passed, signal, start_process

# Status reports started per transaction while a cycle opens: about 2 ms each, so a batch holds
# the database for about 0.2 s (benchmarks/RESULTS.md), well under the 0.5 s a write may take.
OPEN_BATCH = 100
PERIOD = re.compile(r"^(\d{4})-(Q[1-4]|T[1-3]|H[12]|0[1-9]|1[0-2])$")
# The part of the year each kind of period covers: quarters, thirds (tertial), halves, months.
PERIOD_MONTHS = {"Q": 3, "T": 4, "H": 6}


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of a period such as 2026-Q4, 2026-T2, 2026-H1 or 2026-11."""
    match = PERIOD.match(period)
    if match is None or not clock.valid_year(int(match.group(1))):
        raise InvalidInput(
            "error.cycle.period_format", fields={"period": Message("form.period")}, period=quote(period)
        )
    year, part = int(match.group(1)), match.group(2)
    if part[0] in PERIOD_MONTHS:
        months = PERIOD_MONTHS[part[0]]
        first_month = (int(part[1]) - 1) * months + 1
        last_month = first_month + months - 1
    else:
        first_month = last_month = int(part)
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, first_month, 1), date(year, last_month, last_day)


def start_cycle(
    session: Session,
    actor: Actor,
    period: str,
    deadline: date,
    escalation_days: int = 14,
    plan_slug: str | None = None,
) -> ReportingCycle:
    """Start a reporting cycle of a plan: the cycle, in state opening, and its own process waiting
    for the areas to be reconciled. Its status reports (one for the owner of every activity that
    runs in the period) are started by open_reports, batch by batch, in later transactions.

    The rules (workflows/README.md): one unfinished cycle per plan at a time; a plan's periods
    never overlap; an activity reports when it is active and its timeline meets the period."""
    actor = access.require(session, actor, UseCase.START_CYCLE)
    plan = plans.get_plan(session, plan_slug)
    first_day, last_day = period_bounds(period)
    if deadline < clock.today():
        raise InvalidInput(
            "error.cycle.deadline_passed", fields={"deadline": Message("form.past")}, deadline=deadline
        )
    if not 1 <= escalation_days <= 365:
        raise InvalidInput(
            "error.cycle.escalation_days",
            fields={"escalation_days": Message("form.out_of_range", {"limit": "1–365"})},
            days=escalation_days,
        )
    for other in session.scalars(select(ReportingCycle).where(ReportingCycle.plan_id == plan.id)):
        if other.period == period:
            raise Conflict("error.cycle.exists", period=period, plan=plan.slug)
        if other.state is not CycleState.REPORTED:
            raise Conflict("error.cycle.one_open", period=period, open=other.period, plan=plan.slug)
        other_first, other_last = period_bounds(other.period)
        if other_first <= last_day and first_day <= other_last:
            raise Conflict("error.cycle.overlaps", period=period, other=other.period, plan=plan.slug)
    cycle = ReportingCycle(
        plan_id=plan.id,
        period=period,
        deadline=deadline,
        escalation_days=escalation_days,
        started_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(cycle)
            session.flush()
    except IntegrityError:  # another process opened it between our check and our insert
        raise Conflict("error.cycle.exists", period=period, plan=plan.slug) from None
    audit.record(
        session,
        actor,
        "cycle.started",
        "cycle",
        period,
        {"plan": plan.slug, "deadline": deadline, "escalation_days": escalation_days},
    )
    start_process(
        session,
        actor,
        "reporting_cycle",
        instances.Subject(cycle_id=cycle.id, subject_type="cycle", subject_id=cycle.id, due_on=deadline),
        {"period": period, "deadline": deadline.isoformat()},
    )
    return cycle


def open_reports(session: Session, cycle_id: int, limit: int = OPEN_BATCH) -> int:
    """Start up to `limit` of an opening cycle's status reports that are not started yet; when
    none is left, start the reconciliation of every area with no report running and mark the
    cycle open. Returns how many reports it started: 0 means the cycle is open.

    A big plan opens in many short transactions, one call each, going through the activities by
    id: the cycle row is locked, so two openers take turns, and it remembers how far it got
    (`opened_through`, written with the batch), so a crash anywhere resumes there."""
    cycle = session.get(ReportingCycle, cycle_id, with_for_update=True, populate_existing=True)
    if cycle is None:
        raise NotFound("error.cycle.not_found", period=cycle_id, plan="-")
    if cycle.state is not CycleState.OPENING:
        return 0
    first_day, last_day = period_bounds(cycle.period)
    rows = session.execute(
        select(Activity, InterventionArea.focus_area_id)
        .join(InterventionArea, Activity.intervention_area_id == InterventionArea.id)
        .where(*reporting_in(cycle.plan_id, first_day, last_day), Activity.id > (cycle.opened_through or 0))
        .order_by(Activity.id)
        .limit(limit)
    ).all()
    for activity, focus_area_id in rows:
        start_process(
            session,
            SYSTEM_ACTOR,
            "activity_report",
            instances.Subject(cycle.id, focus_area_id, activity.id, "activity", activity.id, cycle.deadline),
            {
                "period": cycle.period,
                "deadline": cycle.deadline.isoformat(),
                "activity_code": activity.code,
                "activity_title": activity.title,
            },
        )
    if rows:
        cycle.opened_through = rows[-1][0].id
        return len(rows)
    cycle.state, cycle.opened_through = CycleState.OPEN, None
    reports = reports_due(session, cycle.id)
    audit.record(session, SYSTEM_ACTOR, "cycle.opened", "cycle", cycle.period, {"reports": reports})
    for area_id in session.scalars(
        select(FocusArea.id).where(FocusArea.plan_id == cycle.plan_id).order_by(FocusArea.number)
    ):
        if not _reports_running(session, cycle.id, area_id):
            _start_reconciliation(session, SYSTEM_ACTOR, cycle, area_id)
    return 0


def open_all(transaction: Callable[[], AbstractContextManager[Session]], cycle_id: int) -> int:
    """Open a cycle to the end, one short transaction per batch (`transaction` is, e.g.,
    Database.transaction); returns how many reports were started."""
    total = 0
    while True:
        with transaction() as session:
            started = open_reports(session, cycle_id)
        if not started:
            return total
        total += started


def opening(session: Session) -> list[int]:
    """The cycles whose opening has not finished (a crash, or a batch still to run)."""
    return list(session.scalars(select(ReportingCycle.id).where(ReportingCycle.state == CycleState.OPENING)))


def reporting_in(plan_id: int, first_day: date, last_day: date) -> list[ColumnElement[bool]]:
    """Which activities of a plan report for a period: active ones whose timeline meets it (an
    activity without dates always reports)."""
    return [
        Activity.plan_id == plan_id,
        Activity.state == ActivityState.ACTIVE,
        or_(Activity.starts_on.is_(None), Activity.starts_on <= last_day),
        or_(Activity.ends_on.is_(None), Activity.ends_on >= first_day),
    ]


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


def get_cycle(session: Session, period: str, plan_slug: str | None = None) -> ReportingCycle:
    plan = plans.get_plan(session, plan_slug)
    cycle = session.scalar(
        select(ReportingCycle).where(ReportingCycle.plan_id == plan.id, ReportingCycle.period == period)
    )
    if cycle is None:
        raise NotFound("error.cycle.not_found", period=quote(period), plan=plan.slug)
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
    status = Status(data["status"])
    report = StatusReport(
        cycle_id=step.instance.cycle_id,
        activity_id=activity.id,
        task_id=step.task_id,
        reporter_id=step.by.id,
        status=status,
        comment=data.get("comment"),
        cause=data.get("cause") if status.is_deviation else None,
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
    """The lead's review is recorded; whether it accepted or returned the report is the
    diagram's to say (report_accepted / report_returned)."""
    report = _pending_report(session, step)
    report.reviewed_by_id, report.reviewed_at = step.by.id, clock.now()
    report.review_comment = data.get("comment")


@on_passed("report_returned")
def _report_returned(session: Session, step: Step) -> None:
    report = _pending_report(session, step)
    report.review = ReviewOutcome.RETURNED
    audit.record(
        session,
        step.actor,
        "status.returned",
        "activity",
        _activity(session, step).code,
        {"report": report.id},
        report.review_comment,
    )


@on_passed("report_accepted")
def _report_accepted(session: Session, step: Step) -> None:
    activity = _activity(session, step)
    report = _pending_report(session, step)
    report.review = ReviewOutcome.ACCEPTED
    activity.status, activity.status_changed_at = report.status, clock.now()
    audit.record(
        session,
        step.actor,
        "status.accepted",
        "activity",
        activity.code,
        {"report": report.id, "status": report.status},
        report.review_comment,
    )
    if report.status.is_deviation:
        deviations.open_deviation(session, step.actor, report)
    # So that the area whose last report this is never misses its reconciliation, an acceptance
    # waits for the opener's batch (which locks the cycle for update) and for other acceptances
    # in the same area, never for reports or acceptances elsewhere in the cycle: the cycle is
    # locked FOR SHARE (a report's insert holds KEY SHARE on it, which FOR UPDATE waited for while
    # that report waited for the audit head this review held: the deadlock), the area's row
    # FOR NO KEY UPDATE. Lock order: README, "Many people at once".
    cycle = session.get(
        ReportingCycle, step.instance.cycle_id, with_for_update={"read": True}, populate_existing=True
    )
    assert cycle is not None, "every report belongs to a cycle"
    area_id = step.instance.focus_area_id
    if area_id is not None:
        session.get(FocusArea, area_id, with_for_update={"key_share": True}, populate_existing=True)
    # While the cycle still opens, its last batch starts the reconciliations (open_reports).
    if cycle.state is CycleState.OPEN and area_id is not None:
        if not _reports_running(session, cycle.id, area_id, besides=step.instance.id):
            _start_reconciliation(session, step.actor, cycle, area_id)


def _reports_running(session: Session, cycle_id: int, area_id: int, besides: int | None = None) -> bool:
    """Whether any of an area's status reports in a cycle is still under way."""
    running = (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.process_id == "activity_report",
            ProcessInstance.cycle_id == cycle_id,
            ProcessInstance.focus_area_id == area_id,
            RUNNING_ONLY,
        )
        .limit(1)
    )
    if besides is not None:
        running = running.where(ProcessInstance.id != besides)
    return session.scalar(running) is not None


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
    review.state = AreaReviewState.SUMMARISED
    audit.record(
        session,
        step.actor,
        "area.summarised",
        "focus_area",
        review.focus_area.number,
        {"period": _cycle(session, step).period, "summary": data["summary"]},
    )


@on_complete("confirm_area")
def _area_checked(session: Session, step: Step, data: dict[str, Any]) -> None:
    step.subject(session, AreaReview).comment = data.get("comment")


@on_passed("area_returned")
def _area_returned(session: Session, step: Step) -> None:
    review = step.subject(session, AreaReview)
    review.state = AreaReviewState.SUMMARISING
    audit.record(
        session,
        step.actor,
        "area.returned",
        "focus_area",
        review.focus_area.number,
        {"period": _cycle(session, step).period},
        review.comment,
    )


@on_passed("area_confirmed")
def _area_confirmed(session: Session, step: Step) -> None:
    review = step.subject(session, AreaReview)
    cycle = _cycle(session, step)
    review.state, review.confirmed_at = AreaReviewState.CONFIRMED, clock.now()
    audit.record(
        session,
        step.actor,
        "area.confirmed",
        "focus_area",
        review.focus_area.number,
        {"period": cycle.period},
        review.comment,
    )
    session.flush()
    confirmed = session.scalar(
        select(func.count())
        .select_from(AreaReview)
        .where(AreaReview.cycle_id == cycle.id, AreaReview.state == AreaReviewState.CONFIRMED)
    )
    if confirmed == session.scalar(
        select(func.count()).select_from(FocusArea).where(FocusArea.plan_id == cycle.plan_id)
    ):
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


def open_for_feedback(session: Session, plan_slug: str | None = None) -> list[str]:
    """The periods of a plan whose business dialogue is open, so dialogue users can add feedback."""
    plan = plans.get_plan(session, plan_slug)
    return list(
        session.scalars(
            select(ReportingCycle.period)
            .join(OpenTask, OpenTask.cycle_id == ReportingCycle.id)
            .where(OpenTask.name == "business_dialogue", ReportingCycle.plan_id == plan.id)
            .order_by(ReportingCycle.period)
        )
    )


def give_dialogue_feedback(
    session: Session, user: User, period: str, data: Any, plan_slug: str | None = None
) -> DialogueFeedback:
    """A business-organisation representative adds feedback while the dialogue step is open."""
    actor = access.require(session, Actor(user), UseCase.GIVE_DIALOGUE_FEEDBACK)
    cycle = get_cycle(session, period, plan_slug)
    open_dialogue = session.scalar(
        select(OpenTask.id).where(OpenTask.cycle_id == cycle.id, OpenTask.name == "business_dialogue")
    )
    if open_dialogue is None:
        raise Conflict("error.dialogue.closed", period=period)
    try:
        clean = instances.library().forms.get("dialogue_feedback").validate(data)
    except FormError as exc:
        raise InvalidInput("error.form.invalid", fields=exc.errors) from None
    feedback = DialogueFeedback(
        cycle_id=cycle.id, author_id=user.id, feedback=clean["feedback"], given_at=clock.now()
    )
    session.add(feedback)
    session.flush()
    audit.record(session, actor, "dialogue.feedback", "cycle", period, clean)
    return feedback


@on_complete("steering_meeting")
def _meeting_closed(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The chair closes the meeting with its minutes and priorities. The group's decisions on
    deviations are each recorded through its own decision task; the meeting closes only when none
    is left awaiting it."""
    cycle = _cycle(session, step)
    undecided = deviations.awaiting_steering_group(session, cycle.plan_id)
    if undecided:
        raise InvalidInput(
            "error.steering.undecided",
            activities=", ".join(item.activity_code for item in undecided),
            count=len(undecided),
        )
    session.add(
        SteeringMeeting(
            cycle_id=cycle.id,
            notes=data["notes"],
            priorities=data.get("priorities"),
            closed_by_id=step.by.id,
            closed_at=clock.now(),
        )
    )
    audit.record(
        session,
        step.actor,
        "steering.meeting_closed",
        "cycle",
        cycle.period,
        {"notes": data["notes"], "priorities": data.get("priorities")},
    )


@on_passed("cycle_reported")
def _cycle_reported(session: Session, step: Step) -> None:
    cycle = _cycle(session, step)
    cycle.state, cycle.reported_at = CycleState.REPORTED, clock.now()
    audit.record(session, step.actor, "cycle.reported", "cycle", cycle.period)
