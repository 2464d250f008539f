"""The business dialogue for its representatives (an outside role): which cycles are open for
feedback, the form to give it, and what the person has given before. Nothing internal shows here.

Whoever holds the dialogue (UseCase.READ_DIALOGUE_FEEDBACK: the process leader) reads at the same
addresses every representative's feedback, with who gave it and when (dialogueview)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..db import get_db
from ..i18n import Message
from ..services.authority.access import UseCase
from ..services.chain import cycles, instances
from ..services.errors import Conflict, InvalidInput
from ..services.views import dialogueview
from . import taskforms
from .site import form_error, language, may, me, require, t

bp = Blueprint("dialogue", __name__)
FORM = "dialogue_feedback"


def _plan() -> str | None:
    return request.args.get("plan") or None


def _everyones(period: str | None = None) -> str:
    """The feedback of the plan's dialogues (one period's) for whoever holds them; the service
    refuses anyone else (the 403 page)."""
    with get_db().reading() as session:
        if period is not None:
            cycles.get_cycle(session, period, _plan())  # an unknown period: the 404 page
        read = dialogueview.everyones_feedback(session, me(session), _plan(), period)
    return render_template("dialogue/feedback.html", read=read, period=period, plan=_plan())


@bp.get("/dialogue")
@login_required
def index() -> str:
    if not may(UseCase.GIVE_DIALOGUE_FEEDBACK):
        return _everyones()
    with get_db().reading() as session:
        open_now = dialogueview.open_dialogues(session, _plan())
        given = dialogueview.feedback_of(session, me(session), _plan())
    return render_template("dialogue/index.html", open_now=open_now, given=given, plan=_plan())


def _render(
    period: str, values: dict[str, Any], errors: dict[str, Message] | None = None, status: int = 200
) -> Any:
    with get_db().reading() as session:
        cycles.get_cycle(session, period, _plan())  # an unknown period: the 404 page
        is_open = dialogueview.is_open(session, period, _plan())
        given = dialogueview.feedback_of(session, me(session), _plan(), period)
    schema = instances.library().forms.get(FORM).schema
    fields = taskforms.fields(schema, language(), values, errors or {})
    return (
        render_template(
            "dialogue/give.html",
            period=period,
            is_open=is_open,
            fields=fields,
            errors=errors,
            given=given,
            plan=_plan(),
        ),
        status,
    )


@bp.get("/dialogue/<period>")
@login_required
def give(period: str) -> Any:
    if not may(UseCase.GIVE_DIALOGUE_FEEDBACK):
        return _everyones(period)
    return _render(period, {})


@bp.post("/dialogue/<period>")
@login_required
def send(period: str) -> Any:
    require(UseCase.GIVE_DIALOGUE_FEEDBACK)
    data = taskforms.read(instances.library().forms.get(FORM).schema, request.form)
    try:
        with get_db().transaction() as session:
            cycles.give_dialogue_feedback(session, me(session), period, data, _plan())
    except (InvalidInput, Conflict) as exc:  # closed meanwhile (Conflict): what was typed stays
        refused = form_error(exc)
        return _render(period, data, refused.messages, refused.status)
    flash(t("ui.dialogue.sent", period=period))
    return redirect(url_for("dialogue.give", period=period, plan=_plan()))
