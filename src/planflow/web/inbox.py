"""The inbox (my tasks, my groups' queue, notices) and a task's form beside what it is about."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import get_db
from ..services.authority import access
from ..services.chain import tasks
from ..services.errors import Conflict, InvalidInput
from ..services.outputs import notices
from ..services.views import cases, meetings, steeringview
from . import taskforms
from .site import form_error, home, know, language, me, t, today

bp = Blueprint("inbox", __name__)


PAGE_SIZE = 50  # tasks a page, as in the API: the rest follow a link, so a full inbox stays quick


@bp.get("/inbox")
@login_required
def index() -> str | Response:
    after = request.args.get("after")
    with get_db().reading() as session:
        user = me(session)
        standing = access.standing(session, user)
        page = tasks.inbox_page(session, standing, language=language(), cursor=after, limit=PAGE_SIZE)
        news = notices.for_user(session, user, limit=5)
        know(session, standing)  # the header's menu and count, from the same reading
        # A steering-group member's work is the group's: with no task of their own, what awaits it.
        group = steeringview.group_waits(session, standing) if not page.items and after is None else []
    rows = page.items
    if not rows and not news and after is None and home() == "dialogue.index":
        return redirect(url_for("dialogue.index"))  # nothing here, ever: their work is the dialogue
    mine: list[tasks.TaskView] = []  # the owner's own tasks and those claimed; the rest is a queue
    queue: list[tasks.TaskView] = []
    for row in rows:
        (mine if row.lane == "activity_owner" or row.assignee is not None else queue).append(row)

    def grouped(items: list[tasks.TaskView]) -> list[tuple[tuple[str, int | None], list[tasks.TaskView]]]:
        key = lambda r: (r.period or "", r.focus_area or 0)  # noqa: E731
        return [(k, list(group)) for k, group in groupby(sorted(items, key=key), key=key)]

    return render_template(
        "inbox/index.html",
        mine=grouped(mine),
        queue=grouped(queue),
        count=len(rows),
        next_cursor=page.next_cursor,
        later_page=after is not None,
        notices=news,
        group=group,
        today=today(),
        me=current_user.username,
    )


def _shown_when(field: str, values: list[str]) -> str:
    return t("ui.form.required_when", field=field, values=" / ".join(values))


def _render_task(
    task_id: str, values: dict[str, Any] | None = None, errors: Any = None, status: int = 200
) -> Any:
    with get_db().reading() as session:
        shown = tasks.show_task(session, me(session), task_id)
        if isinstance(shown, tasks.DoneTask):
            return render_template("inbox/done.html", done=shown), 409 if status != 200 else 200
        # The meeting leaves open only what is still undecided: a checkbox for each.
        meeting = shown["name"] == "steering_meeting"
        still_open = meetings.still_open(session, me(session), task_id) if meeting else []
        lists = taskforms.choice_lists(session, shown["schema"], t)  # fields picked from a list
    case: cases.Case = shown["case"]
    # What the form holds: what was just posted, else the saved draft, else what was sent before
    # the task came back (a returned report, summary, recommendation…), else nothing.
    filled = values if values is not None else (shown["draft"] or case.prefill())
    form_fields = taskforms.fields(shown["schema"], language(), filled, errors or {}, _shown_when)
    form_fields = taskforms.with_choices(form_fields, shown["schema"], lists)
    if still_open:
        choices = [
            (d.activity_code, f"{d.activity_code} {d.activity_title} – {t(f'deviation.stands.{d.stands}')}")
            for d in still_open
        ]
        form_fields = taskforms.choose_many(form_fields, "left_open", choices)
    return (
        render_template(
            "inbox/task.html",
            task_id=task_id,
            name=shown["name"],
            title=t(f"task.{shown['name']}"),
            fields=form_fields,
            errors=errors,
            case=case,
            today=today(),
        ),
        status,
    )


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return _render_task(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Any:
    with get_db().reading() as session:
        name = cases.form_name(session, task_id)
    if name is None:
        return _render_task(task_id, status=409)
    from ..services.chain import instances

    data = taskforms.read(instances.library().forms.get(name).schema, request.form)
    if request.form.get("action") == "draft":  # the form's second button: keep, do not complete
        return _save_draft(task_id, data)
    try:
        with get_db().transaction() as session:
            tasks.complete_task(session, me(session), task_id, data)
    except (InvalidInput, Conflict) as exc:
        refused = form_error(exc)
        return _render_task(task_id, data, refused.messages, status=refused.status)
    flash(t("ui.task.done", task=t(f"task.{name}")))
    return redirect(url_for("inbox.index"))


def _save_draft(task_id: str, data: dict[str, Any]) -> Any:
    """Keep what is typed so far (tasks.save_draft, as POST /api/v1/tasks/<id>/draft does) and come
    back to the same task, which opens with it filled in; a field that is wrong already (too long,
    not a date) is named as when completing, and nothing is kept."""
    try:
        with get_db().transaction() as session:
            tasks.save_draft(session, me(session), task_id, data)
    except (InvalidInput, Conflict) as exc:
        refused = form_error(exc)
        return _render_task(task_id, data, refused.messages, status=refused.status)
    flash(t("ui.task.draft_saved"))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    with get_db().transaction() as session:
        tasks.claim(session, me(session), task_id)
    flash(t("ui.inbox.claimed"))
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Response:
    with get_db().transaction() as session:
        tasks.unclaim(session, me(session), task_id)
    flash(t("ui.inbox.unclaimed"))
    return redirect(url_for("inbox.index"))
