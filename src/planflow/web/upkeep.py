"""Keeping the plan up to date (UseCase.EDIT_PLAN: the process leader, the admin): the activities
the steering group has just added, one activity's title, owner, office and dates, and the whole plan
through Excel. A page edit and an Excel row go through the same service rule,
services.activity_edits.update_activity, which checks the authority and writes the audit event."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..db import get_db
from ..i18n import Message
from ..services.authority.access import UseCase
from ..services.errors import Conflict, InvalidInput, quote
from ..services.outputs import excel
from ..services.plan import activity_edits, plans
from ..services.records.audit import Actor
from .plan import named_plan
from .site import form_error, language, me, require, t

bp = Blueprint("upkeep", __name__, url_prefix="/admin")
FIELDS = ("title", "owner", "office", "starts_on", "ends_on")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _index_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    with get_db().reading() as session:
        plan = plans.get_plan(session, named_plan())
        added = activity_edits.added_activities(session, Actor(me(session)), plan)
        plan_title = plan.title
    extra.setdefault("errors", {})
    return render_template(
        "upkeep/index.html", added=added, plan=named_plan(), plan_title=plan_title, **extra
    ), status


@bp.get("/plan")
@login_required
def index() -> tuple[str, int]:
    require(UseCase.EDIT_PLAN)
    return _index_page()


@bp.get("/plan.xlsx")
@login_required
def download() -> Response:
    require(UseCase.EDIT_PLAN)
    with get_db().reading() as session:
        slug = plans.get_plan(session, named_plan()).slug
        data = excel.export_xlsx(session, slug, language())
    return Response(
        data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{slug}.xlsx"'}
    )


@bp.post("/plan/import")
@login_required
def upload() -> Any:
    require(UseCase.EDIT_PLAN)
    request.max_content_length = excel.MAX_BYTES + 64 * 1024  # the file and the form around it
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise InvalidInput("error.input.invalid", fields={"file": Message("form.required")})
        workbook = excel.read_workbook(sent.read(excel.MAX_BYTES + 1), sent.filename)
        with get_db().transaction() as session:
            result = excel.import_xlsx(session, Actor(me(session)), workbook, named_plan())
    except excel.ImportRefused as exc:
        problems = [p.render(language()) for p in exc.problems]
        refused = form_error(exc)
        return _index_page(refused.status, errors=refused.rendered(), problems=problems)
    except InvalidInput as exc:
        refused = form_error(exc)
        return _index_page(refused.status, errors=refused.rendered())
    flash(t("ui.upkeep.imported", rows=result.rows, count=len(result.changed)))
    return redirect(url_for("upkeep.index", plan=named_plan()))


def _edit_page(
    code: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    seen: str | None = None,
    overtaken: bool = False,
) -> tuple[str, int]:
    """The edit form: on the activity as it is, or on what was typed (kept after a refusal).
    `seen` is the version the typing started from (none: the activity as it is now). When someone
    else's save came between (`overtaken`), each field that differs says what is saved now, and
    the form goes on from that."""
    errors = dict(errors or {})
    with get_db().reading() as session:
        activity = plans.get_activity(session, plans.get_plan(session, named_plan()), code)
        current = activity_edits.ActivityEdit.of(activity)
        owners = activity_edits.owner_choices(session)
        heading = {"code": activity.code, "title": activity.title}
    saved = {
        key: (value.isoformat() if isinstance(value, date) else value or "")
        for key, value in current.as_dict().items()
    }
    if values is None:
        values = saved
    if overtaken:
        seen = None
        for key, value in saved.items():
            if values.get(key, "").strip() != value:
                errors[key] = t("ui.activity_edit.now_saved", value=value or "–")
    return render_template(
        "upkeep/activity.html",
        activity=heading,
        values=values,
        seen=seen or current.version(),
        errors=errors,
        owners=owners,
        has_owner=current.owner is not None,
        plan=named_plan(),
        limits={"title": activity_edits.TITLE_LIMIT, "office": activity_edits.OFFICE_LIMIT},
    ), status


@bp.get("/activities/<code>")
@login_required
def edit(code: str) -> tuple[str, int]:
    require(UseCase.EDIT_PLAN)
    return _edit_page(code)


@bp.post("/activities/<code>")
@login_required
def save(code: str) -> Any:
    require(UseCase.EDIT_PLAN)
    values = {name: request.form.get(name, "") for name in FIELDS}
    seen = request.form.get("seen", "")[:64] or None
    days: dict[str, date | None] = {}
    fields: dict[str, Message] = {}
    for name in ("starts_on", "ends_on"):
        text = values[name].strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            fields[name] = Message("form.date")
    try:
        if fields:
            raise InvalidInput("error.activity.invalid", fields=fields, code=quote(code))
        with get_db().transaction() as session:
            changed = activity_edits.update_activity(
                session,
                Actor(me(session)),
                plans.get_plan(session, named_plan()),
                code,
                values["title"],
                values["owner"],
                values["office"],
                days["starts_on"],
                days["ends_on"],
                seen,
            )
    except InvalidInput as exc:
        refused = form_error(exc)
        return _edit_page(code, values, refused.rendered(), refused.status, seen)
    except Conflict as exc:  # saved by someone else since the form was opened
        refused = form_error(exc)
        return _edit_page(code, values, refused.rendered(), refused.status, overtaken=True)
    flash(t("ui.activity_edit.saved" if changed else "ui.activity_edit.unchanged", code=code))
    return redirect(url_for("activities.show", code=code, plan=named_plan()))
