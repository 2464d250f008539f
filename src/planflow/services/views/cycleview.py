"""Where a reporting cycle stands, as the process leader follows it: the one answer the cycle
page (/cycles/<period>) and the API (GET /api/v1/cycles/<period>) both render, and the list of
a plan's cycles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...models import (
    Activity,
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    CycleState,
    FocusArea,
    OpenTask,
    Plan,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    SteeringMeeting,
    User,
)
from ..authority import access
from ..authority.access import Standing, UseCase
from ..chain import cycles
from ..errors import Forbidden
from ..plan import plans
from ..records.audit import Actor

# The overdue tasks a view lists (it counts them all): the first ones by due date.
OVERDUE_LISTED = 200


@dataclass(frozen=True)
class AreaProgress:
    """Step 1 and 2 of one focus area: its status reports and its reconciliation."""

    number: int
    title: str
    reports_due: int
    reports_in: int
    reports_accepted: int
    reports_returned: int
    review: AreaReviewState | None  # the area's reconciliation; None: not reached yet


@dataclass(frozen=True)
class OverdueTask:
    """An open task of the cycle whose due date has passed, and who should act on it."""

    task_id: str
    name: str
    activity_code: str | None
    who: str | None  # the person's name, or None when it is a group's (the lane says whose)
    lane: str
    due_on: date


@dataclass(frozen=True)
class CycleProgress:
    """Where a cycle stands: the five steps, area by area, and the overdue tasks.

    A focus area's counts are of its activities asked to report in the cycle (one status report
    each, however often it is handed in and returned), by the latest report handed in:

    - `reports_due`: the report is not accepted yet (not handed in, awaiting review, or
      returned): a report is due until it is accepted;
    - `reports_in`: handed in and awaiting the lead's review;
    - `reports_accepted`: accepted (no longer due);
    - `reports_returned`: returned to its owner and not handed in again yet. A report returned
      twice is one report that is returned now, and it counts once; handed in again, it is in.

    So `reports_due` + `reports_accepted` is the number of activities asked to report, and
    `reports_in` + `reports_returned` <= `reports_due`. A task is overdue when its due date is
    before today in the installation's zone (clock.today()); `overdue_tasks` counts them all,
    `overdue` lists the first OVERDUE_LISTED by due date."""

    plan: str
    period: str
    state: CycleState
    deadline: date
    escalation_days: int
    started_at: datetime
    reported_at: datetime | None
    focus_areas: tuple[AreaProgress, ...]
    areas_confirmed: int
    dialogue_held: date | None
    meeting_held: datetime | None
    overdue_tasks: int
    overdue: tuple[OverdueTask, ...]
    instance_id: int | None  # the cycle's own process
    cancelled_at: datetime | None = None  # a cycle started by mistake and cancelled: when, and why
    cancel_reason: str | None = None


@dataclass(frozen=True)
class CycleListed:
    period: str
    state: CycleState
    deadline: date


def cycle_progress(
    session: Session, who: User | Standing, period: str, plan_slug: str | None = None
) -> CycleProgress:
    """Where the cycle of `period` stands, for someone who may read the plan's internal follow-up."""
    _require_read(session, who)
    cycle = cycles.get_cycle(session, period, plan_slug)
    areas = session.execute(
        select(FocusArea.id, FocusArea.number, FocusArea.title)
        .where(FocusArea.plan_id == cycle.plan_id)
        .order_by(FocusArea.number)
    ).all()
    counts = _report_counts(session, cycle.id)
    reviews = dict(
        session.execute(
            select(AreaReview.focus_area_id, AreaReview.state).where(AreaReview.cycle_id == cycle.id)
        ).all()
    )
    dialogue = session.scalar(select(BusinessDialogue.held_on).where(BusinessDialogue.cycle_id == cycle.id))
    meeting = session.scalar(select(SteeringMeeting.closed_at).where(SteeringMeeting.cycle_id == cycle.id))
    overdue_count, overdue = _overdue(session, cycle.id, clock.today())
    return CycleProgress(
        plan=session.get_one(Plan, cycle.plan_id).slug,
        period=cycle.period,
        state=cycle.state,
        deadline=cycle.deadline,
        escalation_days=cycle.escalation_days,
        started_at=cycle.started_at,
        reported_at=cycle.reported_at,
        focus_areas=tuple(
            _area(number, title, counts.get(area_id, {}), reviews.get(area_id))
            for area_id, number, title in areas
        ),
        areas_confirmed=sum(1 for state in reviews.values() if state is AreaReviewState.CONFIRMED),
        dialogue_held=dialogue,
        meeting_held=meeting,
        overdue_tasks=overdue_count,
        overdue=overdue,
        instance_id=session.scalar(
            select(ProcessInstance.id).where(
                ProcessInstance.cycle_id == cycle.id, ProcessInstance.process_id == "reporting_cycle"
            )
        ),
        cancelled_at=cycle.cancelled_at,
        cancel_reason=cycle.cancel_reason,
    )


def list_cycles(
    session: Session, who: User | Standing | Actor, plan_slug: str | None = None
) -> list[CycleListed]:
    """A plan's cycles, the latest first, cancelled ones too, for someone who may read the plan's
    internal follow-up (the local operator too: `planflow cycle list`)."""
    if isinstance(who, Actor):
        access.require(session, who, UseCase.READ_INTERNAL)
    else:
        _require_read(session, who)
    plan = plans.get_plan(session, plan_slug)
    return [
        CycleListed(period, state, deadline)
        for period, state, deadline in session.execute(
            select(ReportingCycle.period, ReportingCycle.state, ReportingCycle.deadline)
            .where(ReportingCycle.plan_id == plan.id)
            .order_by(ReportingCycle.id.desc())
        )
    ]


def _require_read(session: Session, who: User | Standing) -> None:
    standing = access.standing(session, who)
    if standing.may(UseCase.READ_INTERNAL) is None:
        raise Forbidden(
            "error.access.use_case",
            user=standing.user.username,
            use_case={"key": f"access.use_case.{UseCase.READ_INTERNAL}"},
        )


def _report_counts(session: Session, cycle_id: int) -> dict[int | None, dict[ReviewOutcome | None, int]]:
    """Per focus area, the activities asked to report in the cycle by the review of their latest
    report (None: none handed in yet)."""
    latest = (
        select(StatusReport.activity_id, func.max(StatusReport.id).label("report_id"))
        .where(StatusReport.cycle_id == cycle_id)
        .group_by(StatusReport.activity_id)
        .subquery()
    )
    rows = session.execute(
        select(ProcessInstance.focus_area_id, StatusReport.review, func.count(ProcessInstance.id))
        .outerjoin(latest, latest.c.activity_id == ProcessInstance.activity_id)
        .outerjoin(StatusReport, StatusReport.id == latest.c.report_id)
        .where(ProcessInstance.cycle_id == cycle_id, ProcessInstance.process_id == "activity_report")
        .group_by(ProcessInstance.focus_area_id, StatusReport.review)
    ).all()
    counts: dict[int | None, dict[ReviewOutcome | None, int]] = {}
    for area_id, review, count in rows:
        counts.setdefault(area_id, {})[review] = count
    return counts


def _area(
    number: int, title: str, counts: dict[ReviewOutcome | None, int], review: AreaReviewState | None
) -> AreaProgress:
    accepted = counts.get(ReviewOutcome.ACCEPTED, 0)
    return AreaProgress(
        number=number,
        title=title,
        reports_due=sum(counts.values()) - accepted,
        reports_in=counts.get(ReviewOutcome.PENDING, 0),
        reports_accepted=accepted,
        reports_returned=counts.get(ReviewOutcome.RETURNED, 0),
        review=review,
    )


def _overdue(session: Session, cycle_id: int, today: date) -> tuple[int, tuple[OverdueTask, ...]]:
    """How many of the cycle's open tasks are overdue, and the first of them with who should act,
    by name, when it is one person's (access.task_people: whoever took it, the activity's owner,
    or the one holder of the lane's role); a group's task names no one."""
    late = (OpenTask.cycle_id == cycle_id, OpenTask.due_on < today)
    count = session.scalar(select(func.count()).select_from(OpenTask).where(*late)) or 0
    reporter = (  # a review's report's maker: four eyes say who may not act on it
        select(StatusReport.reporter_id)
        .where(
            StatusReport.activity_id == OpenTask.activity_id,
            StatusReport.cycle_id == OpenTask.cycle_id,
            StatusReport.review == ReviewOutcome.PENDING,
        )
        .order_by(StatusReport.id.desc())
        .limit(1)
        .correlate(OpenTask)
        .scalar_subquery()
    )
    rows = session.execute(
        select(OpenTask, Activity.code, Activity.owner_id, reporter)
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .where(*late)
        .order_by(OpenTask.due_on, Activity.code, OpenTask.id)
        .limit(OVERDUE_LISTED)
    ).all()
    people = access.task_people(
        session,
        [
            access.TaskFacts(t.id, t.name, t.lane, t.focus_area_id, t.assignee_id, owner, made_by)
            for t, _, owner, made_by in rows
        ],
    )
    sole = {task_id: next(iter(ids)) for task_id, ids in people.items() if len(ids) == 1}
    names = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(set(sole.values())))).all()
    )
    return count, tuple(
        OverdueTask(
            task_id=task.id,
            name=task.name,
            activity_code=code,
            who=names.get(sole[task.id]) if task.id in sole else None,
            lane=task.lane,
            due_on=task.due_on,
        )
        for task, code, _, _ in rows
    )
