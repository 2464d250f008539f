"""The case of the steering group's meeting: the queue it decides over, the decisions taken on
the period's deviations, and what is still returned or pending."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import Activity, Decision, Deviation, User
from .. import meetings
from .builders import Task, builds, period_of
from .model import Case, MeetingDecision, MeetingSection, StillOpen

PERIOD_ROWS = 500  # a period's decisions beside the minutes


@builds("steering_meeting")
def steering_meeting(session: Session, task: Task, case: Case) -> Case:
    cycle_id = task.task.cycle_id
    if cycle_id is None:
        return case
    period = period_of(session, cycle_id) or ""
    queue = tuple(meetings.agenda(session, task.task))
    decided = session.execute(
        select(Decision, Activity.code, Activity.title, User.display_name)
        .join(Deviation, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .join(Activity, Activity.id == Deviation.activity_id)
        .join(User, User.id == Decision.decided_by_id)
        .where(Deviation.cycle_id == cycle_id)
        .order_by(Decision.id)
        .limit(PERIOD_ROWS)
    ).all()
    decisions = tuple(
        MeetingDecision(code, title, d.decision, d.rationale, name, d.decided_at)
        for d, code, title, name in decided
    )
    # What the meeting must still account for, by the one rule its close is checked against
    # (meetings.to_account_for), less what its queue already shows.
    still_open = tuple(
        StillOpen(d.activity_code, d.activity_title, d.level, d.state.value, d.returned)
        for d in meetings.to_account_for(session, task.task)
        if d.task_id is None
    )
    section = MeetingSection(period, queue, decisions, still_open)
    return replace(case, subject_code=period, meeting=section)
