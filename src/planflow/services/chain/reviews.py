"""The lead's review list: several green reports accepted in one act. Each is still its own review
task's completion (tasks.complete_task: who may act, four eyes, the form, the engine) with its own
audit event; one act only saves the clicks. Only a review whose report is green is accepted so: a
yellow or red report opens a deviation and is read and judged on its own.

One transaction, a savepoint per task: a task refused (done meanwhile, not green, not the person's)
is rolled back alone and named in the answer, the others are kept; and since nothing commits until
the end, a transaction the database gives up on (a deadlock's victim) is tried again whole by the
entry point (web/retry.py), never half done. The tasks are locked in the order of their ids, so two
such acts over the same reports lock alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...i18n import Message
from ...models import (
    Activity,
    CompletedTask,
    OpenTask,
    ProcessInstance,
    ReviewOutcome,
    Status,
    StatusReport,
    User,
)
from ..authority import access
from ..errors import Conflict, Forbidden, InvalidInput, ServiceError
from . import tasks
from .tasks import TaskView

ACCEPT_MOST = 100  # reviews one act accepts at most
ACCEPTABLE = ("review_report",)  # the tasks accepted so: an owner's report reviewed by its lead
ACCEPT = {"outcome": "accept"}  # the review's form, as the person would fill it in


@dataclass(frozen=True)
class Refused:
    """A review not accepted, and why (a service error's message)."""

    task_id: str
    activity_code: str | None
    activity_title: str | None
    message: Message


@dataclass(frozen=True)
class Selection:
    """What an act of accepting would do: the green reviews it would accept, in code order, and
    the tasks it would refuse."""

    acceptable: list[TaskView]
    refused: list[Refused]


@dataclass(frozen=True)
class Accepted:
    """What an act of accepting did: the reviews accepted, each its own completion, in code
    order, and those refused, each named with why."""

    accepted: list[TaskView]
    refused: list[Refused]


def selected(session: Session, user: User, task_ids: Sequence[str]) -> Selection:
    """The reviews among `task_ids` that `user` may accept together now (green, open, theirs to
    act on), and the others with why: what a confirmation shows before accept_green_reports."""
    ids = _checked_ids(task_ids)
    views = _views(session, user, ids)
    acceptable, refused = [], []
    for task_id in ids:
        problem = _problem(session, user, task_id)
        view = views.get(task_id)
        if problem is None and view is not None:
            acceptable.append(view)
        else:
            refused.append(_refused(session, task_id, view, problem or _not_yours(task_id)))
    return Selection(_in_code_order(acceptable), refused)


def accept_green_reports(session: Session, user: User, task_ids: Sequence[str]) -> Accepted:
    """Accept the green reports that the review tasks `task_ids` (at most ACCEPT_MOST) are about,
    each as its own completion of its task with its own audit event, as `user`: each task is
    checked as one completed alone (tasks.complete_task) and, besides, its report must be green.
    A task refused is left as it was and named with why; the others are accepted. The caller
    commits."""
    ids = _checked_ids(task_ids)
    views = _views(session, user, ids)
    accepted, refused = [], []
    for task_id in sorted(ids):
        view = views.get(task_id)
        try:
            with session.begin_nested():
                problem = _problem(session, user, task_id, lock=True)
                if problem is not None:
                    raise problem
                view = view or next(iter(tasks.inbox_rows(session, user, [task_id])), None)
                if view is None:
                    raise _not_yours(task_id)
                tasks.complete_task(session, user, task_id, ACCEPT)
        except ServiceError as error:
            refused.append(_refused(session, task_id, view, error))
            continue
        accepted.append(view)
    order = {task_id: n for n, task_id in enumerate(ids)}
    return Accepted(_in_code_order(accepted), sorted(refused, key=lambda r: order[r.task_id]))


def _checked_ids(task_ids: Sequence[str]) -> list[str]:
    """The task ids, each once, in the order given; InvalidInput for none, too many, or one that
    is no task's id."""
    ids = list(dict.fromkeys(task_ids))
    if not 1 <= len(ids) <= ACCEPT_MOST:
        raise InvalidInput(
            "error.input.invalid",
            fields={"tasks": Message("form.out_of_range", {"limit": f"1–{ACCEPT_MOST}"})},
        )
    for task_id in ids:
        try:
            uuid.UUID(task_id)
        except (ValueError, TypeError, AttributeError):
            raise InvalidInput("error.input.invalid", fields={"tasks": Message("form.task_id")}) from None
    return ids


def _views(session: Session, user: User, ids: list[str]) -> dict[str, TaskView]:
    """The tasks among `ids` in `user`'s inbox now, as its rows show them."""
    return {view.id: view for view in tasks.inbox_rows(session, user, ids)}


def _problem(session: Session, user: User, task_id: str, lock: bool = False) -> ServiceError | None:
    """Why the task cannot be accepted with others now, or None: not open (who did it), not the
    person's to act on (the authority's reason), not a review, or its report not green."""
    task = session.get(OpenTask, task_id, with_for_update=lock or None, populate_existing=lock)
    if task is None:
        return tasks.already_done(session, task_id)
    try:
        access.task_actor(session, user, task)
    except Forbidden as refusal:
        return refusal
    if task.name not in ACCEPTABLE:
        return InvalidInput("error.review.not_a_review", task={"key": f"task.{task.name}"})
    status = _pending_status(session, task)
    if status is not Status.GREEN:
        activity = session.get(Activity, task.activity_id) if task.activity_id is not None else None
        return Conflict(
            "error.review.not_green",
            activity=activity.code if activity else "",
            status={"key": f"status.{status.value if status else 'unreported'}"},
        )
    return None


def _not_yours(task_id: str) -> Forbidden:
    return Forbidden("error.review.not_in_inbox", task=task_id)


def _pending_status(session: Session, task: OpenTask) -> Status | None:
    """The colour of the report a review task is about (its activity's pending one in its cycle)."""
    return session.scalar(
        select(StatusReport.status)
        .where(
            StatusReport.activity_id == task.activity_id,
            StatusReport.cycle_id == task.cycle_id,
            StatusReport.review == ReviewOutcome.PENDING,
        )
        .order_by(StatusReport.id.desc())
        .limit(1)
    )


def _refused(session: Session, task_id: str, view: TaskView | None, error: ServiceError) -> Refused:
    """A refusal named by the task's activity: from the row when the person saw it, else from the
    task, open or done."""
    if view is not None:
        return Refused(task_id, view.activity_code, view.activity_title, error.message)
    activity_id = session.scalar(select(OpenTask.activity_id).where(OpenTask.id == task_id))
    if activity_id is None:
        activity_id = session.scalar(
            select(ProcessInstance.activity_id)
            .join(CompletedTask, CompletedTask.instance_id == ProcessInstance.id)
            .where(CompletedTask.id == task_id)
        )
    row = session.execute(select(Activity.code, Activity.title).where(Activity.id == activity_id)).first()
    return Refused(task_id, row[0] if row else None, row[1] if row else None, error.message)


def _in_code_order(views: list[TaskView]) -> list[TaskView]:
    return sorted(views, key=lambda v: tasks.code_order(v.activity_code))
