"""SAML 2 sign-in: the button's redirect to the IdP, the assertion consumer service (ACS) the IdP
posts back to, planflow's SP metadata at a stable address, and single logout."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access
from ..services.authority.saml import ServiceProvider
from . import site
from .auth import _safe_next
from .site import WebUser, t

bp = Blueprint("saml", __name__)
OUTSTANDING = "saml_outstanding"  # session: the AuthnRequest IDs this browser sent -> next page
LOGOUT = "saml_logout"  # session: provider name, NameID (XML), session index for single logout
MAX_OUTSTANDING = 5  # a few tabs may start signing in at once; older requests are forgotten


def init_app(app: Flask) -> None:
    """One ServiceProvider per configured IdP, built at start (a bad setting stops the start); the
    ACS is exempt from CSRF by design: the IdP's signature is what it trusts."""
    app.extensions["planflow.saml"] = {
        settings["name"]: ServiceProvider(settings, app.config["BASE_URL"], Path(app.instance_path))
        for settings in app.config["SAML_PROVIDERS"]
    }
    app.register_blueprint(bp)
    site.csrf.exempt(acs)
    app.jinja_env.globals["saml_providers"] = lambda: list(app.extensions["planflow.saml"].values())


def _provider(name: str) -> ServiceProvider:
    provider = current_app.extensions["planflow.saml"].get(name)
    if provider is None:
        abort(404)
    return provider  # type: ignore[no-any-return]


@bp.get("/login/saml/<name>")
def login(name: str) -> Response:
    provider = _provider(name)
    request_id, location = provider.login_redirect()
    outstanding = dict(session.get(OUTSTANDING, {}))
    outstanding[request_id] = _safe_next(request.args.get("next"), "inbox.index")
    session[OUTSTANDING] = dict(list(outstanding.items())[-MAX_OUTSTANDING:])
    return redirect(location)


@bp.post("/saml/<name>/acs")
def acs(name: str) -> str | Response | tuple[str, int]:
    provider = _provider(name)
    outstanding: dict[str, str] = dict(session.get(OUTSTANDING, {}))
    with get_db().transaction() as db_session:
        signed_in = provider.sign_in(
            db_session, request.form.get("SAMLResponse", ""), outstanding, request.remote_addr or "-"
        )
        user = signed_in.outcome.user
        web_user = WebUser(user.id, user.username, user.display_name, user.language) if user else None
        home = f"{access.abilities(db_session, user).home}.index" if user else "inbox.index"
    if web_user is None:
        assert signed_in.outcome.refusal is not None
        message = signed_in.outcome.refusal.render(i18n.language_or_default(session.get("language")))
        return render_template("auth/login.html", username="", error=message), 401
    _begin_session(web_user)
    session[LOGOUT] = {
        "provider": name,
        "name_id": signed_in.name_id,
        "session_index": signed_in.session_index,
    }
    flash(t("ui.login.welcome", name=web_user.display_name))
    return redirect(_safe_next(None, home))


def _begin_session(web_user: WebUser) -> None:
    """As auth.login does on success: a new session, nothing set before it (by anyone who planted
    a cookie) carries over. (The integrator swaps in auth.begin_session.)"""
    session.clear()
    login_user(web_user)
    session["sid"] = secrets.token_urlsafe(24)


@bp.get("/saml/<name>/metadata")
def metadata(name: str) -> Response:
    provider = _provider(name)
    return Response(provider.metadata_xml(), mimetype="application/samlmetadata+xml")


@bp.post("/saml/<name>/slo")
def start_logout(name: str) -> Response:
    """Sign out here, then at the IdP when it has single logout (it comes back to GET slo)."""
    provider = _provider(name)
    held = session.get(LOGOUT) or {}
    logout_user()
    session.clear()
    if held.get("provider") == name and held.get("name_id"):
        location = provider.logout_redirect(held["name_id"], held.get("session_index"))
        if location:
            return redirect(location)
    return redirect("/login")


@bp.get("/saml/<name>/slo")
def finish_logout(name: str) -> Response:
    """The IdP's answer to our LogoutRequest, or its own LogoutRequest (the person signed out
    elsewhere): either way this browser's session ends here."""
    _provider(name)
    logout_user()
    session.clear()
    return redirect("/login")
