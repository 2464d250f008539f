"""Signing in and out, and the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access, logins
from . import oidc, saml, signin, site
from .site import me, t

if TYPE_CHECKING:  # the row services hand back, named for the type checker only
    pass

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method != "POST":  # GET, and HEAD (which CSRF protection lets through): a page only
        if current_user.is_authenticated:
            return redirect(signin.safe_next(request.args.get("next"), site.home()))
        return render_template("auth/login.html", username="", error=None)
    if not current_app.config["LOCAL_LOGIN"]:  # everyone signs in through a provider
        abort(404)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with get_db().transaction() as db_session:
        outcome = logins.sign_in(db_session, username, password, request.remote_addr or "-")
        user = outcome.user
        if user is not None:
            name = user.display_name
            # Where the person's work is: their inbox, or the business dialogue (access.Abilities.home).
            home = f"{access.abilities(db_session, user).home}.index"
            signin.begin_session(db_session, user, "password")
    if user is None:
        assert outcome.refusal is not None
        message = outcome.refusal.render(i18n.language_or_default(session.get("language")))
        return render_template("auth/login.html", username=username[:64], error=message), 401
    flash(t("ui.login.welcome", name=name))
    return redirect(signin.safe_next(request.args.get("next"), home))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session ends on the server, so a copy of the cookie opens nothing either, and
    at the identity provider where it can (OpenID Connect's end-session endpoint, SAML's single
    logout)."""
    at_provider = oidc.single_logout_url() or saml.single_logout_url()  # read before the end
    signin.end_session()
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
    return redirect(signin.safe_next(request.form.get("next")))
