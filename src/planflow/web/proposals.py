"""Proposed activities: the plan's proposals with where each stands, and the form on which a
focus-area lead (or a member of the area's working group) proposes a new one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..db import get_db
from ..i18n import Message
from ..services.authority.access import UseCase
from ..services.chain import instances, proposals
from ..services.errors import Forbidden, InvalidInput
from ..services.views import proposalview
from . import taskforms
from .site import PLAN_LANGUAGE, area_words, form_error, language, may, me, require, t

bp = Blueprint("proposals", __name__)
FORM = "propose_activity"


def _plan() -> str | None:
    return request.args.get("plan") or None


@bp.get("/proposals")
@login_required
def index() -> str:
    with get_db().reading() as session:
        rows = proposalview.proposals(session, me(session), _plan())
    return render_template(
        "proposals/index.html", proposals=rows, can_propose=may(UseCase.PROPOSE_ACTIVITY), plan=_plan()
    )


def _render_form(values: dict[str, Any], errors: dict[str, Message] | None = None, status: int = 200) -> Any:
    schema = instances.library().forms.get(FORM).schema
    with get_db().reading() as session:
        areas = proposalview.areas_open_to(session, me(session), _plan())
        lists = taskforms.choice_lists(session, schema, t)  # the owner: a person picked by name
    fields = taskforms.fields(schema, language(), values, errors or {})
    fields = taskforms.with_choices(fields, schema, lists)
    choices = [(a.code, f"{a.code} {area_words(a.title)}") for a in areas]  # the plan's words, whole
    in_swedish = None if language() == PLAN_LANGUAGE else PLAN_LANGUAGE
    fields = taskforms.choose_from(
        fields, "intervention_area", choices, t("ui.proposal.area_help"), in_swedish
    )
    return render_template("proposals/new.html", fields=fields, errors=errors, plan=_plan()), status


@bp.get("/proposals/new")
@login_required
def new() -> Any:
    require(UseCase.PROPOSE_ACTIVITY)
    return _render_form({"intervention_area": request.args.get("area", "")})


@bp.post("/proposals/new")
@login_required
def propose() -> Any:
    require(UseCase.PROPOSE_ACTIVITY)
    data = taskforms.read(instances.library().forms.get(FORM).schema, request.form)
    try:
        with get_db().transaction() as session:
            proposals.propose_activity(session, me(session), data, _plan())
    except InvalidInput as exc:
        refused = form_error(exc)
        return _render_form(data, refused.messages, refused.status)
    except Forbidden as exc:  # an area outside the reader's own: said beside the area, nothing lost
        return _render_form(data, {"intervention_area": exc.message}, form_error(exc).status)
    flash(t("ui.proposal.sent", title=data["title"]))
    return redirect(url_for("proposals.index", plan=_plan()))
