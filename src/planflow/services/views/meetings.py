"""The steering group's meetings: those of a plan (planned: an open `steering_meeting` task; held:
its minutes), for the steering page and a person's calendar, and what a meeting decides over.
Who sees them is the one authority's: whoever may read the steering group's queue
(access.UseCase.READ_STEERING_QUEUE), the same people the steering page lets in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...models import OpenTask, Plan, ReportingCycle, SteeringMeeting, User
from ..authority import access
from ..authority.access import UseCase
from ..chain import deviations
from ..chain.deviations import AwaitingDecision
from ..plan import plans


@dataclass(frozen=True)
class Meeting:
    plan: str  # the plan's slug
    plan_title: str
    period: str  # the cycle the meeting closes
    day: date  # planned for (the task's due date), or held on
    task_id: str | None  # the open meeting's task; None once it is held
    meeting_id: int | None  # the minutes' id once it is held

    @property
    def held(self) -> bool:
        return self.meeting_id is not None


def meetings(
    session: Session, reader: User | access.Standing, plan_slug: str | None = None, every_plan: bool = False
) -> list[Meeting]:
    """The steering group's meetings, planned and held, by day: of the plan plans.get_plan
    resolves from `plan_slug`, or of every plan (`every_plan`). None for a reader who may not
    read the steering group's queue."""
    if access.standing(session, reader).may(UseCase.READ_STEERING_QUEUE) is None:
        return []
    plan_ids = None if every_plan else [plans.get_plan(session, plan_slug).id]
    planned = (
        select(OpenTask.id, OpenTask.due_on, ReportingCycle.period, Plan.slug, Plan.title)
        .join(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .join(Plan, Plan.id == ReportingCycle.plan_id)
        .where(OpenTask.name == "steering_meeting", OpenTask.due_on.is_not(None))
    )
    held = (
        select(SteeringMeeting.id, SteeringMeeting.closed_at, ReportingCycle.period, Plan.slug, Plan.title)
        .join(ReportingCycle, ReportingCycle.id == SteeringMeeting.cycle_id)
        .join(Plan, Plan.id == ReportingCycle.plan_id)
    )
    if plan_ids is not None:
        planned, held = planned.where(Plan.id.in_(plan_ids)), held.where(Plan.id.in_(plan_ids))
    found = [
        Meeting(slug, title, period, due_on, task_id, None)
        for task_id, due_on, period, slug, title in session.execute(planned)
        if due_on is not None
    ]
    found += [
        Meeting(slug, title, period, clock.local(closed_at).date(), None, meeting_id)
        for meeting_id, closed_at, period, slug, title in session.execute(held)
    ]
    return sorted(found, key=lambda m: (m.day, m.plan, m.period, m.task_id or "", m.meeting_id or 0))


def open_meeting(session: Session, reader: User | access.Standing, plan_slug: str | None) -> Meeting | None:
    """The plan's meeting that is planned and not yet held (one cycle of a plan runs at a time, so
    at most one), or None; None too for a reader who may not read the steering group's queue."""
    return next((m for m in meetings(session, reader, plan_slug) if not m.held), None)


def to_account_for(session: Session, task: OpenTask) -> list[deviations.Unsettled]:
    """What a steering meeting's task must account for before it closes: every deviation of its
    plan not yet decided (awaiting the group, returned, being prepared), each to be decided first
    or left open to the next meeting (reporting_cycle's check, workflows/README.md)."""
    plan_id = session.scalar(select(ReportingCycle.plan_id).where(ReportingCycle.id == task.cycle_id))
    return deviations.unsettled(session, plan_id) if plan_id is not None else []


def still_open(session: Session, user: User, task_id: str) -> list[deviations.Unsettled]:
    """`to_account_for` of an open steering meeting, for someone who may close it (the form's
    choice of what to leave open); nothing for another task."""
    task = session.get(OpenTask, task_id)
    if task is None or task.name != "steering_meeting":
        return []
    access.task_actor(session, user, task)
    return to_account_for(session, task)


def agenda(session: Session, task: OpenTask) -> list[AwaitingDecision]:
    """What a steering meeting's task decides over: its own plan's queue of deviations."""
    plan_id = session.scalar(select(ReportingCycle.plan_id).where(ReportingCycle.id == task.cycle_id))
    return deviations.awaiting_steering_group(session, plan_id) if plan_id is not None else []
