"""The signed-in person's own account: the sessions open in their name, each of which they can end
(a browser left signed in on a shared computer, a lost phone)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from ..db import get_db
from ..services.authority import sessions
from .site import SESSION_TOKEN, idle_limit, me, t

bp = Blueprint("account", __name__)


def _token() -> str:
    token = session.get(SESSION_TOKEN)  # a live session has one (site._load_user)
    return token if isinstance(token, str) else ""


@bp.get("/account")
@login_required
def index() -> str:
    with get_db().reading() as db_session:
        listed = sessions.open_sessions(db_session, me(db_session), idle_limit(), _token())
    return render_template("account/index.html", sessions=listed)


@bp.post("/account/sessions/end")
@login_required
def end_one() -> Response:
    """End one of the person's sessions; ending the one asking signs this browser out."""
    chosen = request.form.get("session", "")
    with get_db().transaction() as db_session:
        user = me(db_session)
        current = any(
            s.current and s.id == chosen
            for s in sessions.open_sessions(db_session, user, idle_limit(), _token())
        )
        ended = sessions.end_own(db_session, user, chosen)
    if current:
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))
    flash(t("ui.account.ended" if ended else "ui.account.not_open"))
    return redirect(url_for("account.index"))


@bp.post("/account/sessions/end-others")
@login_required
def end_others() -> Response:
    with get_db().transaction() as db_session:
        count = sessions.end_others(db_session, me(db_session), _token())
    flash(t("ui.account.others_ended", count=count))
    return redirect(url_for("account.index"))
