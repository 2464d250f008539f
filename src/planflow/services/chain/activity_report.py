"""The handlers of an activity's status report (workflows/activity_report.bpmn): its owner
reports, the area's lead accepts or returns the report; an accepted yellow or red report opens a
deviation, and the area's last accepted report starts its reconciliation (area_reconciliation.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...models import Activity, CycleState, FocusArea, ReportingCycle, ReviewOutcome, Status, StatusReport
from ..records import audit
from . import area_reconciliation, deviations
from .steps import Step, on_complete, on_passed


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
        {
            "status": report.status,
            "comment": report.comment,
            "cause": report.cause,
            "report": report.id,
            "reported_at": report.reported_at.isoformat(),
        },
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


def _reviewed_at(report: StatusReport) -> str | None:
    return report.reviewed_at.isoformat() if report.reviewed_at else None


@on_passed("report_returned")
def _report_returned(session: Session, step: Step) -> None:
    report = _pending_report(session, step)
    report.review = ReviewOutcome.RETURNED
    step.send_back(report.review_comment)
    audit.record(
        session,
        step.actor,
        "status.returned",
        "activity",
        _activity(session, step).code,
        {"report": report.id, "reviewed_at": _reviewed_at(report)},
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
        {"report": report.id, "status": report.status, "reviewed_at": _reviewed_at(report)},
        report.review_comment,
    )
    if report.status.is_deviation:
        deviations.open_deviation(session, step.actor, report)
    _reconcile_when_last(session, step)


def _reconcile_when_last(session: Session, step: Step) -> None:
    """Start the area's reconciliation when this accepted report was the area's last one.

    So that the area whose last report this is never misses its reconciliation, an acceptance
    waits for the opener's batch (which locks the cycle for update) and for other acceptances
    in the same area, never for reports or acceptances elsewhere in the cycle: the cycle is
    locked FOR SHARE (a report's insert holds KEY SHARE on it, which FOR UPDATE waited for while
    that report waited for the audit head this review held: the deadlock), the area's row
    FOR NO KEY UPDATE. Lock order: README, "Many people at once"."""
    cycle = session.get(
        ReportingCycle, step.instance.cycle_id, with_for_update={"read": True}, populate_existing=True
    )
    assert cycle is not None, "every report belongs to a cycle"
    area_id = step.instance.focus_area_id
    if area_id is not None:
        session.get(FocusArea, area_id, with_for_update={"key_share": True}, populate_existing=True)
    # While the cycle still opens, its last batch starts the reconciliations (cycles.open_reports).
    if cycle.state is CycleState.OPEN and area_id is not None:
        area_reconciliation.start_when_reported(session, step.actor, cycle, area_id, besides=step.instance.id)
