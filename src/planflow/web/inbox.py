"""The inbox (my tasks, my groups' queue, notices) and a task's form beside what it is about."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import get_db
from ..services.authority import access
from ..services.chain import instances, reviews, tasks
from ..services.errors import Conflict, InvalidInput
from ..services.outputs import notices
from ..services.views import cases, meetings, steeringview
from . import taskforms
from .site import form_error, home, know, language, me, quote, t, today

bp = Blueprint("inbox", __name__)


ACCEPTED_TOGETHER = ("review_report",)  # the tasks whose green rows can be accepted several at once
PAGE_SIZE = 50  # tasks a page, as in the API: the rest follow a link, so a full inbox stays quick


@bp.get("/inbox")
@login_required
def index() -> str | Response:
    after = request.args.get("after")
    with get_db().reading() as session:
        user = me(session)
        standing = access.standing(session, user)
        page = tasks.inbox_page(session, standing, language=language(), cursor=after, limit=PAGE_SIZE)
        news = notices.for_user(session, user, limit=5, mark=quote)
        know(session, standing)  # the header's menu and count, from the same reading
        # A steering-group member's work is the group's: with no task of their own, what awaits it.
        group = steeringview.group_waits(session, standing) if not page.items and after is None else []
    rows = page.items
    if not rows and not news and after is None and home() == "dialogue.index":
        return redirect(url_for("dialogue.index"))  # nothing here, ever: their work is the dialogue
    mine: list[tasks.TaskView] = []  # one person's tasks (access.shared_tasks) and those claimed
    queue: list[tasks.TaskView] = []  # a group's, to claim
    for row in rows:
        (queue if row.shared else mine).append(row)
    by_due = request.args.get("order") == "due"  # by code within each group unless asked

    def grouped(items: list[tasks.TaskView]) -> list[tuple[tuple[str, int | None], list[tasks.TaskView]]]:
        key = lambda r: (r.period or "", r.focus_area or 0)  # noqa: E731
        groups = [(k, list(group)) for k, group in groupby(sorted(items, key=key), key=key)]
        if by_due:
            return groups
        return [(k, sorted(group, key=lambda r: tasks.code_order(r.activity_code))) for k, group in groups]

    greens = {r.id for r in rows if r.reported_status == "green" and r.name in ACCEPTED_TOGETHER}
    return render_template(
        "inbox/index.html",
        mine=grouped(mine),
        queue=grouped(queue),
        greens=greens,
        by_due=by_due,
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
            return _render_done(shown, values)
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


def _render_done(done: tasks.DoneTask, typed: dict[str, Any] | None) -> Any:
    """A task someone has completed: who and when; to a second submit (409), what was typed, to
    copy, for nothing of it was kept."""
    if request.method != "POST":
        return render_template("inbox/done.html", done=done, typed=[]), 200
    kept: list[tuple[str, str]] = []  # label, what was typed (a choice by its words)
    if done.name is not None:
        schema = instances.library().forms.get(done.name).schema
        if typed is None:
            typed = taskforms.read(schema, request.form)
        for f in taskforms.fields(schema, language(), typed, {}, _shown_when):
            if isinstance(f.value, bool):
                kept.append((f.label, t("ui.task.typed_yes" if f.value else "ui.task.typed_no")))
            elif f.value not in (None, ""):
                kept.append((f.label, dict(f.choices).get(str(f.value), str(f.value))))
    return render_template("inbox/done.html", done=done, typed=kept), 409


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return _render_task(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Any:
    with get_db().reading() as session:
        name = cases.form_name(session, task_id)
    if name is None:  # done already (or no such task): who did it, and what was typed, to copy
        return _render_task(task_id, status=409)
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


@bp.get("/reviews/accept")
@login_required
def accept_greens() -> Any:
    """The confirmation before green reports picked in the inbox are accepted together."""
    picked = request.args.getlist("task")
    if not picked:
        flash(t("ui.accept.none_picked"))
        return redirect(url_for("inbox.index"))
    with get_db().reading() as session:
        user = me(session)
        chosen = reviews.selected(session, user, picked)
        know(session, access.standing(session, user))
    return render_template("inbox/accept.html", chosen=chosen, today=today())


@bp.post("/reviews/accept")
@login_required
def accept_greens_confirmed() -> Response:
    """Accept the confirmed reviews, each its own completion; say which were and which not, why."""
    with get_db().transaction() as session:
        done = reviews.accept_green_reports(session, me(session), request.form.getlist("task"))
    if done.accepted:
        codes = ", ".join(v.activity_code or v.title(language()) for v in done.accepted)
        flash(t("ui.accept.done", count=len(done.accepted), codes=codes))
    for refused in done.refused:
        flash(
            t(
                "ui.accept.refused",
                code=refused.activity_code or "–",
                reason=refused.message.render(language()),
            )
        )
    return redirect(url_for("inbox.index"))
