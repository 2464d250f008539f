"""The cases of the reporting cycle's tasks: an owner's report, the lead's review of it, an area's
summary and its confirmation, the business dialogue (and a representative's feedback to it)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from ....models import (
    Activity,
    ActivityState,
    AreaReview,
    DeviationState,
    DialogueFeedback,
    FocusArea,
    InterventionArea,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    User,
)
from .builders import Task, activity_section, builds, name_of, period_of
from .model import (
    AreaReportRow,
    AreaSection,
    Case,
    FeedbackSection,
    FeedbackView,
    FormValue,
    ReportSection,
    Returned,
)
from .returns import area_returns, last, returned_report

AREA_ROWS = 1000  # an area's activities in one summary: every one, up to this many
FEEDBACK_SHOWN = 200  # a dialogue's feedback beside the form


def _about_activity(session: Session, task: Task, case: Case) -> Case:
    activity = activity_section(session, task.task.activity_id)
    if activity is None:
        return case
    return replace(case, subject_code=activity.code, subject_title=activity.title, activity=activity)


@builds("report_status")
def report_status(session: Session, task: Task, case: Case) -> Case:
    """The activity, its last reports and decisions; when the lead returned the report, who did,
    when and why, and the form filled with what was sent."""
    case = _about_activity(session, task, case)
    report = returned_report(session, task.task.cycle_id, task.task.activity_id)
    if report is None:
        return case
    returned = Returned(
        by=name_of(session, report.reviewed_by_id) or "",
        at=report.reviewed_at or report.reported_at,
        reason=report.review_comment,
        step="review_report",
    )
    sent = [FormValue("status", report.status.value)]
    sent += [
        FormValue(name, value)
        for name, value in (("comment", report.comment), ("cause", report.cause))
        if value
    ]
    return replace(case, returned=returned, sent_before=tuple(sent))


@builds("review_report")
def review_report(session: Session, task: Task, case: Case) -> Case:
    """The report under review with its colour, the activity's status before it, and the
    activity's deviations still open."""
    case = _about_activity(session, task, case)
    report = session.scalar(
        select(StatusReport)
        .where(
            StatusReport.cycle_id == task.task.cycle_id,
            StatusReport.activity_id == task.task.activity_id,
            StatusReport.review == ReviewOutcome.PENDING,
        )
        .order_by(StatusReport.id.desc())
        .limit(1)
    )
    if report is None or case.activity is None:
        return case
    section = ReportSection(
        period=period_of(session, report.cycle_id),
        status=report.status.value,
        comment=report.comment,
        cause=report.cause,
        reporter_name=report.reporter.display_name,
        reported_at=report.reported_at,
        previous_status=case.activity.status,
        open_deviations=tuple(d for d in case.activity.deviations if d.state != DeviationState.DECIDED.value),
    )
    return replace(case, report=section)


def _area(session: Session, task: Task) -> tuple[AreaReview, AreaSection] | None:
    """The area review a reconciliation task is about, and the area as its lead summarises it."""
    review = session.get(AreaReview, task.subject_id)
    if review is None:
        return None
    cycle = session.get(ReportingCycle, review.cycle_id)
    area = session.get(FocusArea, review.focus_area_id)
    assert cycle is not None and area is not None
    reporter = aliased(User)
    accepted = (
        select(StatusReport)
        .where(StatusReport.cycle_id == cycle.id, StatusReport.review == ReviewOutcome.ACCEPTED)
        .subquery()
    )
    rows = session.execute(
        select(
            Activity.code,
            Activity.title,
            accepted.c.status,
            accepted.c.comment,
            accepted.c.cause,
            reporter.display_name,
        )
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .outerjoin(accepted, accepted.c.activity_id == Activity.id)
        .outerjoin(reporter, reporter.id == accepted.c.reporter_id)
        # A closed activity reports no more: it is listed when it reported in the period.
        .where(
            InterventionArea.focus_area_id == area.id,
            or_(Activity.state == ActivityState.ACTIVE, accepted.c.id.is_not(None)),
        )
        .order_by(InterventionArea.number, Activity.number, accepted.c.id)
        .limit(AREA_ROWS)
    ).all()
    reports = tuple(
        AreaReportRow(code, title, status.value if status else None, comment, cause, name)
        for code, title, status, comment, cause, name in rows
    )
    section = AreaSection(
        number=area.number,
        title=area.title,
        period=cycle.period,
        state=review.state.value,
        reports=reports,
        summary=review.summary,
        summarised_by=name_of(session, review.summarised_by_id),
        comment=review.comment,
    )
    return review, section


@builds("area_summary")
def area_summary(session: Session, task: Task, case: Case) -> Case:
    """The area (which one), every report of the period with colour, comment and cause; when the
    process leader returned the summary, the reason, and the form filled with the earlier one."""
    found = _area(session, task)
    if found is None:
        return case
    review, area = found
    case = replace(case, subject_code=str(area.number), subject_title=area.title, area=area)
    returned = last(area_returns(session, area.number, review.id))
    if returned is None:
        return case
    sent = (FormValue("summary", review.summary),) if review.summary else ()
    return replace(case, returned=returned, sent_before=sent)


@builds("confirm_area")
def confirm_area(session: Session, task: Task, case: Case) -> Case:
    """The lead's summary beside the same list of the area's reports."""
    found = _area(session, task)
    if found is None:
        return case
    _, area = found
    return replace(case, subject_code=str(area.number), subject_title=area.title, area=area)


def feedback_section(session: Session, cycle_id: int) -> FeedbackSection:
    """Every feedback given in a cycle's business dialogue (its first FEEDBACK_SHOWN), oldest first."""
    rows = session.execute(
        select(DialogueFeedback, User.display_name)
        .join(User, User.id == DialogueFeedback.author_id)
        .where(DialogueFeedback.cycle_id == cycle_id)
        .order_by(DialogueFeedback.given_at, DialogueFeedback.id)
        .limit(FEEDBACK_SHOWN + 1)
    ).all()
    given = tuple(FeedbackView(name, f.feedback, f.given_at) for f, name in rows[:FEEDBACK_SHOWN])
    return FeedbackSection(period_of(session, cycle_id) or "", given, len(rows) > FEEDBACK_SHOWN)


@builds("business_dialogue", "dialogue_feedback")
def business_dialogue(session: Session, task: Task, case: Case) -> Case:
    """Every feedback the dialogue's representatives gave, with who and when."""
    if task.task.cycle_id is None:
        return case
    feedback = feedback_section(session, task.task.cycle_id)
    return replace(case, subject_code=feedback.period, feedback=feedback)
