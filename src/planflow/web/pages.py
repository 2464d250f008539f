"""Internal pages that read: an activity's story and the reporting cycles (the process leader's
dashboard, where a cycle is started, after a page that says what starting will do, and where one
started by mistake is cancelled, after a page that says what cancelling will do)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..db import get_db
from ..i18n import Message
from ..services.authority import access
from ..services.authority.access import UseCase
from ..services.chain import cycles
from ..services.errors import Conflict, InvalidInput
from ..services.records.audit import Actor
from ..services.views import cycleview, history
from .http_status import status_of
from .plan import named_plan
from .site import FormError, form_error, know, may, me, require, t

activities = Blueprint("activities", __name__)
cycles_bp = Blueprint("cycles", __name__)


@activities.get("/activities/<code>")
@login_required
def show(code: str) -> str:
    with get_db().reading() as session:  # who may read it is the service's to say
        story = history.activity_story(session, me(session), code, named_plan())
    return render_template("activities/show.html", h=story)


@cycles_bp.get("/cycles")
@login_required
def index(
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> Any:
    with get_db().reading() as session:  # who may read them is the service's to say
        standing = access.standing(session, me(session))
        know(session, standing)  # the header's menu and count, from the same reading
        rows = cycleview.list_cycles(session, standing, named_plan())
    return (
        render_template(
            "cycles/index.html",
            cycles=rows,
            can_start=may(UseCase.START_CYCLE),
            plan=named_plan(),
            errors=errors or {},
            values=values or {},
        ),
        status,
    )


@cycles_bp.post("/cycles")
@login_required
def start() -> Any:
    """Start a cycle and open it (cycles.start: it checks who may, and applies the installation's
    escalation days), once the page that says what it will do (cycles.preview: how many
    activities get a task, the deadline) is confirmed: the form sent without `confirm` shows that
    page, refused as the start itself would be. Someone who may not start one is refused before
    the form is read: what is wrong with their input is none of their business."""
    require(UseCase.START_CYCLE)
    period = request.form.get("period", "").strip()
    deadline_text = request.form.get("deadline", "").strip()
    values = {"period": period, "deadline": deadline_text}
    try:
        deadline = date.fromisoformat(deadline_text)
    except ValueError:
        fields = {"deadline": Message("form.date")}
        try:  # say what is wrong with the period too, by the service's own rule
            cycles.period_bounds(period)
        except InvalidInput as exc:
            fields.update(exc.fields)
        refused = form_error(InvalidInput("error.input.invalid", fields=fields))
        return index(refused.rendered(), values, refused.status)
    database = get_db()
    try:
        if request.form.get("confirm") != "1":
            with database.reading() as session:
                shown = cycles.preview(session, Actor(me(session)), period, deadline, plan_slug=named_plan())
            return render_template("cycles/confirm_start.html", p=shown, plan=named_plan())
        with database.reading() as session:
            actor = Actor(me(session))
        cycles.start(database.transaction, actor, period, deadline, plan_slug=named_plan())
    except (InvalidInput, Conflict) as exc:
        refused = form_error(exc)
        return index(refused.rendered(), values, refused.status)
    flash(t("ui.cycle.started", period=period))
    return redirect(url_for("cycles.show", period=period, plan=named_plan()))


@login_required
def show_cycle(period: str) -> str:
    """Where the cycle stands: the view GET /api/v1/cycles/<period> sends (cycleview)."""
    with get_db().reading() as session:  # who may read it is the service's to say
        standing = access.standing(session, me(session))
        know(session, standing)
        stands = cycleview.cycle_progress(session, standing, period, named_plan())
    return render_template("cycles/show.html", c=stands, plan=named_plan())


cycles_bp.add_url_rule("/cycles/<period>", endpoint="show", view_func=show_cycle, methods=["GET"])


def _cancel_page(period: str, reason: str = "", refused: FormError | None = None) -> Any:
    """The page that says what cancelling the cycle will do and asks why; a refusal of the
    cancelling itself (something reported meanwhile) stands first on it."""
    try:
        with get_db().reading() as session:
            shown = cycles.cancel_preview(session, Actor(me(session)), period, named_plan())
    except Conflict as exc:  # nothing to confirm: the page says why, with the way back (a refused
        # cancelling answers with the refusal's status; the page asked for answers the question)
        return render_template(
            "cycles/cancel.html", p=None, period=period, refusal=exc.message, plan=named_plan()
        ), (status_of(exc) if refused else 200)
    errors = refused.messages if refused else {}
    return render_template(
        "cycles/cancel.html",
        p=shown,
        period=period,
        reason=reason,
        errors=errors,
        limit=cycles.CANCEL_REASON_LIMIT,
        plan=named_plan(),
    ), (refused.status if refused else 200)


@cycles_bp.get("/cycles/<period>/cancel")
@login_required
def confirm_cancel(period: str) -> Any:
    require(UseCase.START_CYCLE)
    return _cancel_page(period)


@cycles_bp.post("/cycles/<period>/cancel")
@login_required
def cancel(period: str) -> Any:
    """Cancel a cycle started by mistake (cycles.cancel), with the reason given on the page."""
    require(UseCase.START_CYCLE)
    reason = request.form.get("reason", "")[: cycles.CANCEL_REASON_LIMIT + 1]
    database = get_db()
    with database.reading() as session:
        actor = Actor(me(session))
    try:
        cancelled = cycles.cancel(database.transaction, actor, period, reason, named_plan())
    except (InvalidInput, Conflict) as exc:
        return _cancel_page(period, reason, form_error(exc))
    flash(t("ui.cycle.cancelled", period=period, count=cancelled.tasks_withdrawn))
    return redirect(url_for("cycles.index", plan=named_plan()))
