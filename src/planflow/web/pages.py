"""Internal pages that read: an activity's story and the reporting cycles (the process leader's
dashboard, where a cycle is started)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..db import get_db
from ..i18n import Message
from ..services import cycles, cycleview, history
from ..services.access import UseCase
from ..services.audit import Actor
from ..services.errors import Conflict, InvalidInput
from .plan import named_plan
from .site import language, may, me, require, t, today

activities = Blueprint("activities", __name__)
cycles_bp = Blueprint("cycles", __name__)


@activities.get("/activities/<code>")
@login_required
def show(code: str) -> str:
    require(UseCase.READ_INTERNAL)
    with get_db().reading() as session:
        activity = history.find_activity(session, code, named_plan())
        story = history.story(session, activity, reports_limit=50, events_limit=100)
    return render_template("activities/show.html", h=story)


@cycles_bp.get("/cycles")
@login_required
def index(
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> Any:
    require(UseCase.READ_INTERNAL)
    with get_db().reading() as session:
        rows = cycleview.list_cycles(session, named_plan())
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
    require(UseCase.START_CYCLE)
    period = request.form.get("period", "").strip()
    deadline_text = request.form.get("deadline", "").strip()
    values = {"period": period, "deadline": deadline_text}
    try:
        deadline = date.fromisoformat(deadline_text)
    except ValueError:
        errors = {"deadline": Message("form.date").render(language())}
        try:  # say what is wrong with the period too, by the service's own rule
            cycles.period_bounds(period)
        except InvalidInput as exc:
            errors.update({name: m.render(language()) for name, m in exc.fields.items()})
        return index(errors, values, 422)
    try:
        with get_db().transaction() as session:
            cycle = cycles.start_cycle(session, Actor(me(session)), period, deadline, plan_slug=named_plan())
            cycle_id = cycle.id
    except (InvalidInput, Conflict) as exc:
        errors = {name: m.render(language()) for name, m in exc.fields.items()}
        errors.setdefault("", exc.message.render(language()))
        return index(errors, values, 422)
    cycles.open_all(get_db().transaction, cycle_id)
    flash(t("ui.cycle.started", period=period))
    return redirect(url_for("cycles.show", period=period, plan=named_plan()))


@login_required
def show_cycle(period: str) -> str:
    require(UseCase.READ_INTERNAL)
    with get_db().reading() as session:
        summary = cycleview.summary(session, period, today(), named_plan())
    return render_template("cycles/show.html", c=summary, today=today(), plan=named_plan())


cycles_bp.add_url_rule("/cycles/<period>", endpoint="show", view_func=show_cycle, methods=["GET"])
