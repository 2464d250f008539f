"""Signing in and out, and the reader's language."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access, logins
from . import oidc, site
from .site import WebUser, me, t

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None, home: str = "inbox.index") -> str:
    """Only a path on this site: never an address elsewhere (an open redirect); else `home`."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(home)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next"), site.home()))
        return render_template("auth/login.html", username="", error=None)
    if not current_app.config["LOCAL_LOGIN"]:  # everyone signs in through a provider
        abort(404)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with get_db().transaction() as db_session:
        outcome = logins.sign_in(db_session, username, password, request.remote_addr or "-")
        user = outcome.user
        web_user = WebUser(user.id, user.username, user.display_name, user.language) if user else None
        # Where the person's work is: their inbox, or the business dialogue (access.Abilities.home).
        home = f"{access.abilities(db_session, user).home}.index" if user else "inbox.index"
    if web_user is None:
        assert outcome.refusal is not None
        message = outcome.refusal.render(i18n.language_or_default(session.get("language")))
        return render_template("auth/login.html", username=username[:64], error=message), 401
    # A new session at sign-in: nothing set before it (by anyone who planted a cookie) carries over.
    session.clear()
    login_user(web_user)
    session["sid"] = secrets.token_urlsafe(24)
    flash(t("ui.login.welcome", name=web_user.display_name))
    return redirect(_safe_next(request.args.get("next"), home))


@bp.post("/logout")
def logout() -> Response:
    at_provider = oidc.single_logout_url()  # ends the provider's session too, where it can
    logout_user()
    session.clear()
    return redirect(at_provider or url_for("auth.login"))


@bp.post("/language")
def choose_language() -> Response:
    """Switch the language; a signed-in user's choice is remembered on the account."""
    chosen = request.form.get("language", "")
    if chosen in i18n.LANGUAGES:
        if current_user.is_authenticated:
            with get_db().transaction() as db_session:
                logins.set_language(db_session, me(db_session), chosen)
        session["language"] = chosen
    return redirect(_safe_next(request.form.get("next")))
