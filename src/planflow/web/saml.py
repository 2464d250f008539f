"""SAML 2 sign-in: the button's redirect to the IdP, the assertion consumer service (ACS) the IdP
posts back to, planflow's SP metadata at a stable address, and single logout."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access
from ..services.authority.saml import ServiceProvider
from . import signin, site
from .site import t

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
    outstanding[request_id] = signin.safe_next(request.args.get("next"), "inbox.index")
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
        if user is not None:
            name_shown = user.display_name
            home = f"{access.abilities(db_session, user).home}.index"
            signin.begin_session(db_session, user, f"saml:{name}")
    if user is None:
        assert signed_in.outcome.refusal is not None
        message = signed_in.outcome.refusal.render(i18n.language_or_default(session.get("language")))
        return render_template("auth/login.html", username="", error=message), 401
    session[LOGOUT] = {
        "provider": name,
        "name_id": signed_in.name_id,
        "session_index": signed_in.session_index,
    }
    flash(t("ui.login.welcome", name=name_shown))
    return redirect(signin.safe_next(None, home))


@bp.get("/saml/<name>/metadata")
def metadata(name: str) -> Response:
    provider = _provider(name)
    return Response(provider.metadata_xml(), mimetype="application/samlmetadata+xml")


def single_logout_url() -> str | None:
    """Where to send the browser to end the session at the IdP too (SP-initiated single logout;
    it comes back to GET slo), when the person signed in through one that has it; read before the
    session ends."""
    held = session.get(LOGOUT) or {}
    provider = current_app.extensions["planflow.saml"].get(held.get("provider"))
    if provider is None or not held.get("name_id"):
        return None
    location: str | None = provider.logout_redirect(held["name_id"], held.get("session_index"))
    return location


@bp.get("/saml/<name>/slo")
def finish_logout(name: str) -> Response:
    """The IdP's answer to our LogoutRequest, or its own LogoutRequest (the person signed out
    elsewhere): either way this browser's session ends here."""
    _provider(name)
    signin.end_session()
    return redirect(url_for("auth.login"))
