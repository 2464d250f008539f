"""SAML 2 sign-in: the button's redirect to the IdP, the assertion consumer service (ACS) the IdP
posts back to, planflow's SP metadata at a stable address, and single logout."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..services.authority import access
from ..services.authority.saml import ServiceProvider
from . import signin, site
from .site import t

bp = Blueprint("saml", __name__)
# The AuthnRequest this browser sent (its ID, the page to go to next, when it was sent) is kept in
# a signed cookie of its own, not in the session: the IdP, on another site, posts its answer to the
# ACS, and a browser does not send the SameSite=Lax session cookie with that cross-site POST. The
# cookie goes only to /saml/ (the ACS), so /login/saml/ cannot read it and a new sign-in replaces
# the request before: the one the person abandoned.
OUTSTANDING = "planflow_saml_request"
OUTSTANDING_PATH = "/saml/"
OUTSTANDING_FOR = 600  # seconds a person has to sign in at the IdP
MAX_NEXT = 500  # characters of the page to go to after signing in
LOGOUT = "saml_logout"  # session: provider name, NameID (XML), session index for single logout


def init_app(app: Flask) -> None:
    """One ServiceProvider per configured IdP, built at start (a bad setting stops the start); the
    ACS is exempt from CSRF by design: the IdP's signature is what it trusts."""
    app.extensions["planflow.saml"] = {
        settings["name"]: ServiceProvider(settings, app.config["BASE_URL"], Path(app.instance_path))
        for settings in app.config["SAML_PROVIDERS"]
    }
    app.register_blueprint(bp)
    site.csrf.exempt(acs)
    # The logout form's answer redirects to the IdP's single logout service.
    site.let_forms_reach(
        app,
        {_origin(url) for sp in app.extensions["planflow.saml"].values() if (url := sp.single_logout_url())},
    )
    app.jinja_env.globals["saml_providers"] = lambda: list(app.extensions["planflow.saml"].values())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _provider(name: str) -> ServiceProvider:
    provider = current_app.extensions["planflow.saml"].get(name)
    if provider is None:
        abort(404)
    return provider  # type: ignore[no-any-return]


@bp.get("/login/saml/<name>")
def login(name: str) -> Response:
    provider = _provider(name)
    request_id, location = provider.login_redirect()
    next_page = request.args.get("next", "")[:MAX_NEXT]  # checked when it is used
    response = redirect(location)
    _keep_sent_requests(response, {request_id: (next_page, int(time.time()))})
    return response


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="planflow.saml.requests")


def _sent_requests() -> dict[str, tuple[str, int]]:
    """The request this browser sent, if still young enough to be answered; nothing from a cookie
    that is unsigned, altered or old."""
    try:
        held = _serializer().loads(request.cookies.get(OUTSTANDING, ""), max_age=OUTSTANDING_FOR)
    except (BadSignature, ValueError, TypeError):
        return {}
    oldest = time.time() - OUTSTANDING_FOR
    return {
        str(request_id): (str(next_page), int(sent_at))
        for request_id, (next_page, sent_at) in dict(held).items()
        if sent_at >= oldest
    }


def _keep_sent_requests(response: Response, sent: dict[str, tuple[str, int]]) -> None:
    """HttpOnly, only for /saml/; in production (https) SameSite=None and Secure, so that the
    IdP's cross-site POST carries it; on plain-http development Lax (a browser refuses
    SameSite=None without Secure, and the IdP there is on the same site)."""
    secure = bool(current_app.config.get("SECURE_COOKIES", True))
    response.set_cookie(
        OUTSTANDING,
        _serializer().dumps({key: list(value) for key, value in sent.items()}),
        max_age=OUTSTANDING_FOR,
        path=OUTSTANDING_PATH,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )


@bp.post("/saml/<name>/acs")
def acs(name: str) -> Response:
    provider = _provider(name)
    outstanding = {request_id: next_page for request_id, (next_page, _) in _sent_requests().items()}
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
        refused = make_response(render_template("auth/login.html", username="", error=message), 401)
        _forget_sent_requests(refused)
        return refused
    session[LOGOUT] = {
        "provider": name,
        "name_id": signed_in.name_id,
        "session_index": signed_in.session_index,
    }
    flash(t("ui.login.welcome", name=name_shown))
    signed_in_response = redirect(signin.safe_next(signed_in.next_page or None, home))
    _forget_sent_requests(signed_in_response)
    return signed_in_response


def _forget_sent_requests(response: Response) -> None:
    """An answer, accepted or not, uses up what this browser was waiting for."""
    secure = bool(current_app.config.get("SECURE_COOKIES", True))
    response.delete_cookie(
        OUTSTANDING, path=OUTSTANDING_PATH, secure=secure, httponly=True, samesite="None" if secure else "Lax"
    )


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
