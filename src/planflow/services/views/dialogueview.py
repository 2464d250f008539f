"""The business dialogue as a representative from outside the municipality sees it: which cycles
are open for feedback now, and the feedback the person has given. Nothing internal: no reports,
no deviations, nobody else's feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import DialogueFeedback, OpenTask, ReportingCycle, User
from ..plan import plans


@dataclass(frozen=True)
class OpenDialogue:
    period: str
    deadline: date  # the cycle's reporting deadline
    opened_at: datetime  # when the process leader's dialogue step began


@dataclass(frozen=True)
class GivenFeedback:
    period: str
    feedback: str
    given_at: datetime


def open_dialogues(session: Session, plan_slug: str | None = None) -> list[OpenDialogue]:
    """The plan's cycles whose business dialogue is open for feedback, oldest period first."""
    plan = plans.get_plan(session, plan_slug)
    rows = session.execute(
        select(ReportingCycle.period, ReportingCycle.deadline, OpenTask.created_at)
        .join(OpenTask, OpenTask.cycle_id == ReportingCycle.id)
        .where(OpenTask.name == "business_dialogue", ReportingCycle.plan_id == plan.id)
        .order_by(ReportingCycle.period)
    )
    return [OpenDialogue(period, deadline, opened_at) for period, deadline, opened_at in rows]


def is_open(session: Session, period: str, plan_slug: str | None = None) -> bool:
    return any(d.period == period for d in open_dialogues(session, plan_slug))


def feedback_of(
    session: Session, user: User, plan_slug: str | None = None, period: str | None = None
) -> list[GivenFeedback]:
    """What `user` has given in the plan's dialogues (in one period's, if given), newest first."""
    plan = plans.get_plan(session, plan_slug)
    query = (
        select(ReportingCycle.period, DialogueFeedback.feedback, DialogueFeedback.given_at)
        .join(ReportingCycle, ReportingCycle.id == DialogueFeedback.cycle_id)
        .where(DialogueFeedback.author_id == user.id, ReportingCycle.plan_id == plan.id)
        .order_by(DialogueFeedback.given_at.desc(), DialogueFeedback.id.desc())
    )
    if period is not None:
        query = query.where(ReportingCycle.period == period)
    return [GivenFeedback(p, text, at) for p, text, at in session.execute(query)]
