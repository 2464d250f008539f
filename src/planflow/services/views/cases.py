"""The case beside a task's form: what the person deciding it needs to see. One answer for the
page, the API and the mail alike; the issue "every decision with its basis in view" widens it per
kind of task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ...models import Activity, OpenTask, User
from ..authority import access
from ..chain.deviations import AwaitingDecision
from ..errors import NotFound, quote
from . import history, meetings
from .history import ActivityStory

REPORTS_SHOWN = 5  # the activity's last reports beside an owner's or a lead's form


@dataclass(frozen=True)
class Case:
    """A task's case: the activity's recent story, or the queue a steering meeting decides over."""

    task_id: str
    name: str
    due_on: date | None
    history: ActivityStory | None
    queue: list[AwaitingDecision] | None


def case_of(session: Session, user: User, task_id: str) -> Case:
    """The case of an open task, for someone who may act on it now."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise NotFound("error.task.not_open", task=quote(task_id))
    access.task_actor(session, user, task)
    story = None
    if task.activity_id is not None and (activity := session.get(Activity, task.activity_id)) is not None:
        story = history.story(session, activity, reports_limit=REPORTS_SHOWN, events_limit=0)
    queue = meetings.agenda(session, task) if task.name == "steering_meeting" else None
    return Case(task.id, task.name, task.due_on, story, queue)


def form_name(session: Session, task_id: str) -> str | None:
    """The name of an open task's form (whose schema reads the posted fields), or None."""
    task = session.get(OpenTask, task_id)
    return task.name if task is not None else None
