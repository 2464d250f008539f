"""A reporting cycle as the process leader follows it: the five steps with their progress per
focus area, and the overdue tasks with who should act on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ..models import (
    Activity,
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    FocusArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    SteeringMeeting,
    User,
)
from . import cycles, plans


@dataclass(frozen=True)
class AreaProgress:
    number: int
    title: str
    due: int  # reports asked for
    made: int  # activities with a report in
    accepted: int
    returned: int
    review: str | None  # summarising | summarised | confirmed | None (not yet reached)


@dataclass(frozen=True)
class OverdueTask:
    task_id: str
    name: str
    activity_code: str | None
    who: str | None  # the person, or None when a group's lane
    lane: str
    due_on: date


@dataclass(frozen=True)
class CycleSummary:
    period: str
    state: str
    deadline: date
    areas: list[AreaProgress]
    dialogue_held: date | None
    meeting_closed: bool
    overdue: list[OverdueTask]
    instance_id: int | None

    @property
    def areas_confirmed(self) -> int:
        return sum(1 for a in self.areas if a.review == AreaReviewState.CONFIRMED.value)


def list_cycles(session: Session, plan_slug: str | None = None) -> list[tuple[str, str, date]]:
    plan = plans.get_plan(session, plan_slug)
    return [
        (c.period, c.state.value, c.deadline)
        for c in session.scalars(
            select(ReportingCycle).where(ReportingCycle.plan_id == plan.id).order_by(ReportingCycle.id.desc())
        )
    ]


def summary(session: Session, period: str, today: date, plan_slug: str | None = None) -> CycleSummary:
    cycle = cycles.get_cycle(session, period, plan_slug)
    areas = session.execute(
        select(FocusArea.id, FocusArea.number, FocusArea.title)
        .where(FocusArea.plan_id == cycle.plan_id)
        .order_by(FocusArea.number)
    ).all()
    due: dict[int | None, int] = {
        area: count
        for area, count in session.execute(
            select(ProcessInstance.focus_area_id, func.count())
            .where(ProcessInstance.cycle_id == cycle.id, ProcessInstance.process_id == "activity_report")
            .group_by(ProcessInstance.focus_area_id)
        ).all()
    }
    area_of_report = (
        select(StatusReport.activity_id, StatusReport.review, ProcessInstance.focus_area_id)
        .join(
            ProcessInstance,
            (ProcessInstance.activity_id == StatusReport.activity_id)
            & (ProcessInstance.cycle_id == StatusReport.cycle_id)
            & (ProcessInstance.process_id == "activity_report"),
        )
        .where(StatusReport.cycle_id == cycle.id)
        .subquery()
    )
    made: dict[int, int] = dict(
        session.execute(
            select(
                area_of_report.c.focus_area_id, func.count(distinct(area_of_report.c.activity_id))
            ).group_by(area_of_report.c.focus_area_id)
        ).all()
    )
    reviewed: dict[tuple[int, str], int] = {
        (area, review.value): count
        for area, review, count in session.execute(
            select(area_of_report.c.focus_area_id, area_of_report.c.review, func.count()).group_by(
                area_of_report.c.focus_area_id, area_of_report.c.review
            )
        ).all()
    }
    reviews = {
        r.focus_area_id: r.state.value
        for r in session.scalars(select(AreaReview).where(AreaReview.cycle_id == cycle.id))
    }
    dialogue = session.scalar(select(BusinessDialogue).where(BusinessDialogue.cycle_id == cycle.id))
    meeting = session.scalar(select(SteeringMeeting.id).where(SteeringMeeting.cycle_id == cycle.id))
    owner = User.__table__.alias("owner")
    overdue_rows = session.execute(
        select(
            OpenTask.id,
            OpenTask.name,
            Activity.code,
            owner.c.display_name,
            User.display_name,
            OpenTask.lane,
            OpenTask.due_on,
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(owner, owner.c.id == Activity.owner_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .where(OpenTask.cycle_id == cycle.id, OpenTask.due_on < today)
        .order_by(OpenTask.due_on, Activity.code)
        .limit(200)
    ).all()
    instance_id = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.cycle_id == cycle.id, ProcessInstance.process_id == "reporting_cycle"
        )
    )
    return CycleSummary(
        period=cycle.period,
        state=cycle.state.value,
        deadline=cycle.deadline,
        areas=[
            AreaProgress(
                number=number,
                title=title,
                due=due.get(area_id, 0),
                made=made.get(area_id, 0),
                accepted=reviewed.get((area_id, ReviewOutcome.ACCEPTED.value), 0),
                returned=reviewed.get((area_id, ReviewOutcome.RETURNED.value), 0),
                review=reviews.get(area_id),
            )
            for area_id, number, title in areas
        ],
        dialogue_held=dialogue.held_on if dialogue else None,
        meeting_closed=meeting is not None,
        overdue=[
            OverdueTask(
                tid,
                name,
                code,
                (assignee or owner_name) if lane == "activity_owner" else assignee,
                lane,
                due_on,
            )
            for tid, name, code, owner_name, assignee, lane, due_on in overdue_rows
        ],
        instance_id=instance_id,
    )
