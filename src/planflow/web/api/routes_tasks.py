"""The inbox and the tasks in it: read one with its form and context, complete it (safely
retried with an Idempotency-Key), keep a draft, claim, unclaim, and the admin's reassignment."""

from __future__ import annotations

from typing import Any

from flask import request

from ...db import get_db
from ...services.chain import idempotency, reviews, tasks
from ...services.chain.tasks import TaskView
from ...services.errors import InvalidInput, NotFound
from ...services.records.audit import Actor
from . import schemas as sc
from .auth import caller
from .problems import language
from .registry import NO_CONTENT, in_data, operation
from .views import as_json

DATA_BODY = sc.obj({"data": sc.TASK_DATA})


def task_json(task: TaskView, lang: str) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "title": task.title(lang),
        "process": task.process_id,
        "role": task.lane,
        "activity_code": task.activity_code,
        "activity_title": task.activity_title,
        "focus_area": task.focus_area,
        "period": task.period,
        "due": task.due_on.isoformat() if task.due_on else None,
        "overdue": task.overdue,
        "claimed": task.claimed,
        "assignee": task.assignee,
        "shared": task.shared,
        "reported_status": task.reported_status,
        "report_comment": task.report_comment,
    }


@operation(
    "GET",
    "/inbox",
    summary="The open tasks the caller may act on now, soonest due first",
    tag="tasks",
    response=sc.INBOX,
    query={
        "role": sc.LANE,
        "period": sc.s(10),
        "overdue": sc.BOOL,
        "q": sc.s(100),
        "cursor": sc.s(500),
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
    },
)
def inbox(query: dict[str, Any], body: None) -> dict[str, Any]:
    lang = language()
    with get_db().reading() as session:
        page = tasks.inbox_page(session, caller(session), lang, **query)
    return {"items": [task_json(t, lang) for t in page.items], "next_cursor": page.next_cursor}


@operation(
    "GET",
    "/tasks/<task_id>",
    summary="A task with its form (JSON Schema), saved draft and its case: what the decision needs",
    tag="tasks",
    response=sc.TASK_DETAIL,
)
def task(task_id: str, query: dict[str, Any], body: None) -> dict[str, Any]:
    lang = language()
    with get_db().reading() as session:
        detail = tasks.show_task(session, caller(session), task_id)
    if isinstance(detail, tasks.DoneTask):  # this route shows open tasks; the read right is checked
        raise NotFound("error.task.not_open", task=task_id)
    return {
        **task_json(detail["task"], lang),
        "form": detail["schema"],
        "draft": detail["draft"],
        "context": detail["context"],
        "case": as_json(detail["case"]),
    }


@operation(
    "POST",
    "/tasks/<task_id>/complete",
    summary="Complete a task with its form's data; 409 when it is already done",
    tag="tasks",
    response=sc.COMPLETION,
    body=DATA_BODY,
    headers={"Idempotency-Key": sc.s(200, minLength=1)},
)
def complete(task_id: str, query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    key = request.headers.get("Idempotency-Key")
    try:
        with get_db().transaction() as session:
            return idempotency.complete_once(session, caller(session), task_id, body["data"], key)
    except InvalidInput as error:
        raise in_data(error) from None


@operation(
    "POST",
    "/tasks/<task_id>/draft",
    summary="Keep some of a task's fields without completing it",
    tag="tasks",
    response=None,
    status=NO_CONTENT,
    body=DATA_BODY,
)
def draft(task_id: str, query: dict[str, Any], body: dict[str, Any]) -> None:
    try:
        with get_db().transaction() as session:
            tasks.save_draft(session, caller(session), task_id, body["data"])
    except InvalidInput as error:
        raise in_data(error) from None


@operation(
    "POST",
    "/tasks/<task_id>/claim",
    summary="Take a group task, so that it is the caller's alone",
    tag="tasks",
    response=None,
    status=NO_CONTENT,
)
def claim(task_id: str, query: dict[str, Any], body: None) -> None:
    with get_db().transaction() as session:
        tasks.claim(session, caller(session), task_id)


@operation(
    "POST",
    "/tasks/<task_id>/unclaim",
    summary="Give a claimed task back to its group",
    tag="tasks",
    response=None,
    status=NO_CONTENT,
)
def unclaim(task_id: str, query: dict[str, Any], body: None) -> None:
    with get_db().transaction() as session:
        tasks.unclaim(session, caller(session), task_id)


@operation(
    "POST",
    "/tasks/<task_id>/reassign",
    summary="An administrator gives a task to someone who may do it, or back to its group (to: null)",
    tag="tasks",
    response=None,
    status=NO_CONTENT,
    body=sc.obj({"to": sc.opt(sc.USERNAME), "reason": sc.s(2000, minLength=1)}),
)
def reassign(task_id: str, query: dict[str, Any], body: dict[str, Any]) -> None:
    with get_db().transaction() as session:
        tasks.reassign(session, Actor(caller(session)), task_id, body["to"], body["reason"])


@operation(
    "POST",
    "/reviews/accept",
    summary="Accept several green reports at once: each review task completed on its own (its own "
    "audit event); those refused (not green, done, not the caller's) are named with why",
    tag="tasks",
    response=sc.REVIEWS_ACCEPTED,
    body=sc.obj({"tasks": sc.TASK_IDS}),
)
def accept_reviews(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    lang = language()
    with get_db().transaction() as session:
        done = reviews.accept_green_reports(session, caller(session), body["tasks"])
    return {
        "accepted": [{"id": v.id, "activity_code": v.activity_code} for v in done.accepted],
        "refused": [
            {
                "id": r.task_id,
                "activity_code": r.activity_code,
                "code": r.message.key,
                "detail": r.message.render(lang),
            }
            for r in done.refused
        ],
    }
