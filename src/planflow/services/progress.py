"""Where the reporting chain of one cycle stands: reports due, in, accepted and returned per
focus area, areas confirmed, the business dialogue and the steering meeting, overdue tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import (
    Activity,
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    FocusArea,
    InterventionArea,
    OpenTask,
    ReviewOutcome,
    StatusReport,
    SteeringMeeting,
    User,
)
from . import access, cycles
from .access import UseCase
from .audit import Actor


def cycle_progress(session: Session, user: User, period: str, plan_slug: str | None = None) -> dict[str, Any]:
    """The cycle of `period` and how far its chain has come, area by area."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    cycle = cycles.get_cycle(session, period, plan_slug)
    today = clock.today()
    areas = session.execute(
        select(FocusArea.id, FocusArea.number)
        .where(FocusArea.plan_id == cycle.plan_id)
        .order_by(FocusArea.number)
    ).all()
    due = dict(
        session.execute(
            select(OpenTask.focus_area_id, func.count())
            .where(OpenTask.cycle_id == cycle.id, OpenTask.name == "report_status")
            .group_by(OpenTask.focus_area_id)
        ).all()
    )
    reviews: dict[tuple[int, ReviewOutcome], int] = {}
    for area_id, outcome, count in session.execute(
        select(
            InterventionArea.focus_area_id,
            StatusReport.review,
            func.count(func.distinct(StatusReport.activity_id)),
        )
        .join(Activity, Activity.id == StatusReport.activity_id)
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .where(StatusReport.cycle_id == cycle.id)
        .group_by(InterventionArea.focus_area_id, StatusReport.review)
    ):
        reviews[(area_id, outcome)] = count
    states = dict(
        session.execute(
            select(AreaReview.focus_area_id, AreaReview.state).where(AreaReview.cycle_id == cycle.id)
        ).all()
    )
    dialogue = session.scalar(select(BusinessDialogue).where(BusinessDialogue.cycle_id == cycle.id))
    meeting = session.scalar(select(SteeringMeeting).where(SteeringMeeting.cycle_id == cycle.id))
    overdue = session.scalar(
        select(func.count())
        .select_from(OpenTask)
        .where(OpenTask.cycle_id == cycle.id, OpenTask.due_on < today)
    )
    return {
        "period": cycle.period,
        "deadline": cycle.deadline.isoformat(),
        "escalation_days": cycle.escalation_days,
        "state": cycle.state.value,
        "started_at": cycle.started_at.isoformat(),
        "reported_at": cycle.reported_at.isoformat() if cycle.reported_at else None,
        "focus_areas": [
            {
                "number": number,
                "reports_due": due.get(area_id, 0),
                "reports_in": reviews.get((area_id, ReviewOutcome.PENDING), 0),
                "reports_accepted": reviews.get((area_id, ReviewOutcome.ACCEPTED), 0),
                "reports_returned": reviews.get((area_id, ReviewOutcome.RETURNED), 0),
                "review": states[area_id].value if area_id in states else None,
                "confirmed": states.get(area_id) is AreaReviewState.CONFIRMED,
            }
            for area_id, number in areas
        ],
        "areas_confirmed": sum(1 for s in states.values() if s is AreaReviewState.CONFIRMED),
        "areas": len(areas),
        "dialogue_held": dialogue.held_on.isoformat() if dialogue else None,
        "meeting_held": meeting.closed_at.isoformat() if meeting else None,
        "overdue_tasks": overdue or 0,
    }
