"""Signing in and out, and the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access, logins, sessions
from . import site
from .site import SESSION_TOKEN, WebUser, me, t

if TYPE_CHECKING:  # the row services hand back, named for the type checker only
    from ..models import User

bp = Blueprint("auth", __name__)


def begin_session(db_session: Session, user: User, how: str) -> None:
    """Sign `user` in on this browser once `how` has identified them ("password", or
    "oidc:<issuer>" / "saml:<entity id>" from an identity provider's sign-in): a new Flask session,
    so that nothing set before it (by anyone who planted a cookie) carries over, holding the token
    of a session kept on the server (services.authority.sessions), which every request checks and
    sign-out, a password change or deactivation ends. Call it inside `db_session`'s transaction."""
    token = sessions.start(
        db_session, user, how, request.remote_addr or "-", request.headers.get("User-Agent", "")
    )
    session.clear()
    login_user(WebUser(user.id, user.username, user.display_name, user.language))
    session[SESSION_TOKEN] = token


def _safe_next(target: str | None, home: str = "inbox.index") -> str:
    """Only a path on this site: never an address elsewhere (an open redirect); else `home`."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(home)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method != "POST":  # GET, and HEAD (which CSRF protection lets through): a page only
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next"), site.home()))
        return render_template("auth/login.html", username="", error=None)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with get_db().transaction() as db_session:
        outcome = logins.sign_in(db_session, username, password, request.remote_addr or "-")
        user = outcome.user
        if user is not None:
            name = user.display_name
            # Where the person's work is: their inbox, or the business dialogue (access.Abilities.home).
            home = f"{access.abilities(db_session, user).home}.index"
            begin_session(db_session, user, "password")
    if user is None:
        assert outcome.refusal is not None
        message = outcome.refusal.render(i18n.language_or_default(session.get("language")))
        return render_template("auth/login.html", username=username[:64], error=message), 401
    flash(t("ui.login.welcome", name=name))
    return redirect(_safe_next(request.args.get("next"), home))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session ends on the server, so a copy of the cookie opens nothing either."""
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        with get_db().transaction() as db_session:
            sessions.end(db_session, token)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


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
