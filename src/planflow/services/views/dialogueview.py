"""The business dialogue as a representative from outside the municipality sees it: which cycles
are open for feedback now, and the feedback the person has given. Nothing internal: no reports,
no deviations, nobody else's feedback.

And as whoever holds the dialogue reads it (UseCase.READ_DIALOGUE_FEEDBACK, the process leader):
every representative's feedback, with who gave it and when (`everyones_feedback`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import DialogueFeedback, OpenTask, ReportingCycle, User
from ..authority import access
from ..authority.access import Standing, UseCase
from ..errors import Forbidden
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


@dataclass(frozen=True)
class FeedbackEntry:
    """One representative's feedback, as whoever holds the dialogue reads it."""

    period: str
    author: str  # the representative's name
    organisation: str | None  # the office the account names, where it names one
    feedback: str
    given_at: datetime


@dataclass(frozen=True)
class DialogueFeedbackRead:
    """The plan's business dialogues as whoever holds them reads them: which are open for
    feedback now, and every feedback given, newest first."""

    plan: str
    open_now: tuple[OpenDialogue, ...]
    feedback: tuple[FeedbackEntry, ...]


def everyones_feedback(
    session: Session, reader: User | Standing, plan_slug: str | None = None, period: str | None = None
) -> DialogueFeedbackRead:
    """Every representative's feedback in the plan's dialogues (one period's, if given), for
    someone who may read it (UseCase.READ_DIALOGUE_FEEDBACK), else Forbidden."""
    standing = access.standing(session, reader)
    if standing.may(UseCase.READ_DIALOGUE_FEEDBACK) is None:
        raise Forbidden(
            "error.access.use_case",
            user=standing.user.username,
            use_case={"key": f"access.use_case.{UseCase.READ_DIALOGUE_FEEDBACK}"},
        )
    plan = plans.get_plan(session, plan_slug)
    query = (
        select(
            ReportingCycle.period,
            User.display_name,
            User.office,
            DialogueFeedback.feedback,
            DialogueFeedback.given_at,
        )
        .join(ReportingCycle, ReportingCycle.id == DialogueFeedback.cycle_id)
        .join(User, User.id == DialogueFeedback.author_id)
        .where(ReportingCycle.plan_id == plan.id)
        .order_by(DialogueFeedback.given_at.desc(), DialogueFeedback.id.desc())
    )
    if period is not None:
        query = query.where(ReportingCycle.period == period)
    return DialogueFeedbackRead(
        plan=plan.slug,
        open_now=tuple(open_dialogues(session, plan_slug)),
        feedback=tuple(FeedbackEntry(*row) for row in session.execute(query)),
    )
