"""The case beside a task's form: what the person deciding it needs to see, one builder per kind
of task (workflows/README.md, "What each decision needs"). One answer for the page, the API and
the mail alike."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import OpenTask, Plan, ProcessInstance, ReportingCycle, User
from ...authority import access
from ...chain import counsel
from ...errors import NotFound, quote
from . import annual, deviation, meeting, proposal, reporting  # noqa: F401  (they register builders)
from .builders import BUILDERS, Task
from .model import (
    ActivitySection,
    AnnualSection,
    AreaReportRow,
    AreaSection,
    Case,
    DeviationSection,
    FeedbackSection,
    FeedbackView,
    FormValue,
    MeetingDecision,
    MeetingSection,
    ProposalSection,
    ReportSection,
    Returned,
    ReturnView,
    StillOpen,
)
from .returns import returned_by_column

__all__ = [
    "BUILDERS",
    "ActivitySection",
    "AnnualSection",
    "AreaReportRow",
    "AreaSection",
    "Case",
    "DeviationSection",
    "FeedbackSection",
    "FeedbackView",
    "FormValue",
    "MeetingDecision",
    "MeetingSection",
    "ProposalSection",
    "ReportSection",
    "ReturnView",
    "Returned",
    "StillOpen",
    "case_of",
    "form_name",
    "returned_by_column",
]


def case_of(session: Session, user: User, task_id: str) -> Case:
    """The case of an open task, for someone who may act on it now: the common facts and the
    sections its kind's builder reads."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise NotFound("error.task.not_open", task=quote(task_id))
    access.task_actor(session, user, task)
    build = BUILDERS.get(task.name)
    if build is None:  # a test holds every form of workflows/forms to a builder
        raise LookupError(f"no case builder for the task kind {task.name!r}")
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None  # open tasks cascade with their instance
    plan = _plan_of(session, task, instance)
    base = Case(
        task_id=task.id,
        name=task.name,
        lane=task.lane,
        due_on=task.due_on,
        plan=plan,
        subject_code=None,
        subject_title=None,
    )
    case = build(session, Task(task, instance), base)
    if task.name in counsel.DECIDED_THROUGH.values() and instance.subject_id is not None:
        # The chair records the group's decision with what the members said beside it.
        said = counsel.comments_on(session, instance.subject_type or "", instance.subject_id)
        case = dataclasses.replace(case, comments=tuple(said))
    return case


def _plan_of(session: Session, task: OpenTask, instance: ProcessInstance) -> str | None:
    """The slug of the plan the task belongs to, from its cycle (or its focus area's plan)."""
    if task.cycle_id is not None:
        return session.scalar(
            select(Plan.slug)
            .join(ReportingCycle, ReportingCycle.plan_id == Plan.id)
            .where(ReportingCycle.id == task.cycle_id)
        )
    return None


def form_name(session: Session, task_id: str) -> str | None:
    """The name of an open task's form (whose schema reads the posted fields), or None."""
    task = session.get(OpenTask, task_id)
    return task.name if task is not None else None
