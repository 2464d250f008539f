"""The cases of a deviation's tasks: the process leader's recommendation, the lead's agreement and
the steering group's decision. Each shows the cause, the activity's report history, the
recommendation with every return and its reason, and the decisions taken before."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from ....models import Deviation
from .. import history
from .builders import Task, activity_section, builds, period_of
from .model import Case, DeviationSection, FormValue
from .returns import DEVIATION_RETURNS, audit_returns, last


def _deviation(session: Session, task: Task, case: Case) -> tuple[Case, Deviation | None]:
    deviation = session.get(Deviation, task.subject_id)
    activity = activity_section(session, task.task.activity_id)
    if activity is not None:
        case = replace(case, subject_code=activity.code, subject_title=activity.title, activity=activity)
    if deviation is None:
        return case, None
    section = DeviationSection(
        id=deviation.id,
        period=period_of(session, deviation.cycle_id),
        level=deviation.level,
        cause=deviation.cause,
        recommendation=deviation.recommendation,
        state=deviation.state.value,
        opened_at=deviation.opened_at,
        escalated_at=deviation.escalated_at,
        returns=tuple(audit_returns(session, DEVIATION_RETURNS, "deviation", deviation.id)),
        decisions=tuple(history.decisions_on(session, "deviation", [deviation.id])),
    )
    return replace(case, deviation=section), deviation


@builds("draft_recommendation")
def draft_recommendation(session: Session, task: Task, case: Case) -> Case:
    """The deviation; when the lead or the steering group returned the recommendation, who did,
    why, and the form filled with the recommendation sent."""
    case, deviation = _deviation(session, task, case)
    if case.deviation is None or deviation is None:
        return case
    returned = last(list(case.deviation.returns))
    if returned is None:
        return case
    sent = (FormValue("recommendation", deviation.recommendation),) if deviation.recommendation else ()
    return replace(case, returned=returned, sent_before=sent)


@builds("agree_recommendation", "steering_decision")
def judge_recommendation(session: Session, task: Task, case: Case) -> Case:
    """The deviation with its recommendation, its returns and the decisions taken before."""
    case, _ = _deviation(session, task, case)
    return case
