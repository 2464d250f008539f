"""The handlers of an area's reconciliation (workflows/area_reconciliation.bpmn): once every
status report of a focus area is accepted, its lead summarises the area and the process leader
confirms it or returns it; when every area of the plan is confirmed, the cycle's own process
goes on (reporting_cycle.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...models import RUNNING_ONLY, AreaReview, AreaReviewState, FocusArea, ProcessInstance, ReportingCycle
from ..records import audit
from ..records.audit import Actor
from . import instances
from .reporting_cycle import cycle_of
from .steps import Step, on_complete, on_passed, signal, start_process


def start_when_reported(
    session: Session, actor: Actor, cycle: ReportingCycle, focus_area_id: int, besides: int | None = None
) -> None:
    """Start the area's reconciliation unless one of its status reports is still under way
    (`besides`: the report instance that is finishing now) or it has started already."""
    if not _reports_running(session, cycle.id, focus_area_id, besides):
        _start(session, actor, cycle, focus_area_id)


def _reports_running(session: Session, cycle_id: int, area_id: int, besides: int | None) -> bool:
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


def _start(session: Session, actor: Actor, cycle: ReportingCycle, focus_area_id: int) -> None:
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
        {"period": cycle_of(session, step).period, "summary": data["summary"], "review": review.id},
    )


@on_complete("confirm_area")
def _area_checked(session: Session, step: Step, data: dict[str, Any]) -> None:
    step.subject(session, AreaReview).comment = data.get("comment")


@on_passed("area_returned")
def _area_returned(session: Session, step: Step) -> None:
    review = step.subject(session, AreaReview)
    review.state = AreaReviewState.SUMMARISING
    step.send_back(review.comment)
    audit.record(
        session,
        step.actor,
        "area.returned",
        "focus_area",
        review.focus_area.number,
        {"period": cycle_of(session, step).period, "review": review.id},  # the case finds it so
        review.comment,
    )


@on_passed("area_confirmed")
def _area_confirmed(session: Session, step: Step) -> None:
    review = step.subject(session, AreaReview)
    cycle = cycle_of(session, step)
    review.state, review.confirmed_at = AreaReviewState.CONFIRMED, clock.now()
    audit.record(
        session,
        step.actor,
        "area.confirmed",
        "focus_area",
        review.focus_area.number,
        {"period": cycle.period, "review": review.id, "confirmed_at": review.confirmed_at.isoformat()},
        review.comment,
    )
    session.flush()
    if _all_confirmed(session, cycle):
        cycle_instance = session.scalars(
            select(ProcessInstance).where(
                ProcessInstance.process_id == "reporting_cycle", ProcessInstance.cycle_id == cycle.id
            )
        ).one()
        audit.record(session, step.actor, "cycle.areas_confirmed", "cycle", cycle.period)
        signal(session, step.actor, cycle_instance, "all_areas_confirmed")


def _all_confirmed(session: Session, cycle: ReportingCycle) -> bool:
    """Whether every focus area of the cycle's plan is confirmed."""
    confirmed = session.scalar(
        select(func.count())
        .select_from(AreaReview)
        .where(AreaReview.cycle_id == cycle.id, AreaReview.state == AreaReviewState.CONFIRMED)
    )
    return confirmed == session.scalar(
        select(func.count()).select_from(FocusArea).where(FocusArea.plan_id == cycle.plan_id)
    )
