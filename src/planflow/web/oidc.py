"""Signing in through an OpenID Connect provider (Entra ID, or any other), and out again there.

Authlib's Flask client does the protocol: discovery from the issuer, the authorization code flow
with PKCE (S256), `state` and `nonce` kept in the session and checked on return, and the ID
token's signature (against the provider's JWKS), issuer, audience, nonce and lifetime verified.
Who the person is in planflow is decided by services.authority.identities, as for SAML.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
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
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from .. import i18n
from ..db import get_db
from ..i18n import Message
from ..services.authority import access, identities
from ..services.errors import InvalidInput
from . import signin, site
from .site import t

if TYPE_CHECKING:
    pass

bp = Blueprint("oidc", __name__)
log = logging.getLogger(__name__)
EXTENSION = "planflow.oidc"
# The session keys that remember, until logout, which provider signed the person in.
SIGNED_IN_AT, ID_TOKEN = "oidc_provider", "oidc_id_token"
# An ID token larger than this is not kept for the logout hint: the session is a cookie, and a
# token with many groups would overflow it; the logout then names the client instead (allowed by
# OpenID Connect RP-Initiated Logout 1.0, section 2).
LONGEST_KEPT_ID_TOKEN = 1500


class Providers:
    """The configured providers: planflow's view of each, and Authlib's client for it."""

    def __init__(self, app: Flask) -> None:
        self.oauth = OAuth(app)
        self.settings: dict[str, dict[str, Any]] = app.config["OIDC_PROVIDERS"]
        self.providers: dict[str, identities.Provider] = {}
        for name, settings in self.settings.items():
            try:
                group_roles = identities.check_group_roles(settings["group_roles"])
            except InvalidInput as exc:
                raise ValueError(f"PLANFLOW_OIDC_PROVIDERS: provider {name}: group_roles: {exc}") from None
            self.providers[name] = identities.Provider(
                name=name,
                issuer=settings["issuer"],
                label=settings["label"],
                link_by_email=settings["link_by_email"],
                create_unknown=settings["create_unknown"],
                group_roles=group_roles,
            )
            self.oauth.register(
                name,
                client_id=settings["client_id"],
                client_secret=settings["client_secret"],
                server_metadata_url=settings["issuer"] + "/.well-known/openid-configuration",
                client_kwargs={"scope": settings["scopes"], "code_challenge_method": "S256", "timeout": 10},
            )

    def client(self, name: str) -> Any:
        if name not in self.providers:
            abort(404)
        return self.oauth.create_client(name)


def init_app(app: Flask) -> None:
    providers = Providers(app)
    app.extensions[EXTENSION] = providers
    app.register_blueprint(bp)
    app.jinja_env.globals["sign_in_providers"] = buttons
    # The logout form's answer redirects to the provider's end_session_endpoint.
    site.let_forms_reach(app, {_origin(settings["issuer"]) for settings in providers.settings.values()})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def buttons() -> list[tuple[str, str]]:
    """The login page's provider buttons: (name, label), in the configuration's order."""
    providers: Providers = current_app.extensions[EXTENSION]
    return [(name, provider.label) for name, provider in providers.providers.items()]


def _callback_url(name: str) -> str:
    """The redirect URI registered at the provider: fixed by BASE_URL, not by the request's Host."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/login/oidc/{name}/callback"


@bp.get("/login/oidc/<name>")
def start(name: str) -> Response | tuple[str, int]:
    """Send the browser to the provider to sign in (state, nonce and PKCE verifier kept here)."""
    client = current_app.extensions[EXTENSION].client(name)
    try:
        answer: Response = client.authorize_redirect(_callback_url(name))
    except (requests.RequestException, ValueError) as exc:  # the provider's discovery did not answer
        log.warning("OpenID Connect provider %s unreachable: %s", name, type(exc).__name__)
        return _refused(Message("login.provider.failed", {"provider": _label(name)}), 502)
    return answer


@bp.get("/login/oidc/<name>/callback")
def callback(name: str) -> str | Response | tuple[str, int]:
    """The provider's answer: the code exchanged, the ID token verified, the person identified."""
    providers: Providers = current_app.extensions[EXTENSION]
    client = providers.client(name)
    provider = providers.providers[name]
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as exc:
        # A wrong state or nonce, a bad signature, audience or issuer, an expired token, an error
        # the provider sent back: the reason goes to the log (never the token), the person is told
        # to try again.
        log.warning("sign-in through %s refused: %s %s", name, type(exc).__name__, exc)
        return _refused(Message("login.provider.failed", {"provider": provider.label}), 400)
    claims = token.get("userinfo")
    if not claims or not isinstance(claims.get("sub"), str):  # no ID token: not OpenID Connect
        return _refused(Message("login.provider.failed", {"provider": provider.label}), 400)
    if claims.get("hasgroups") or "groups" in (claims.get("_claim_names") or {}):
        # Entra ID's group overage: too many groups to list, so none are. Signing in with none
        # would take every role the groups gave; refused instead, and the log says why.
        log.warning("sign-in through %s refused: the ID token lists no groups (overage)", name)
        return _refused(Message("login.provider.failed", {"provider": provider.label}), 400)
    groups = claims.get(providers.settings[name]["groups_claim"]) or []
    groups = [str(group) for group in groups] if isinstance(groups, list) else []
    email, display = claims.get("email"), claims.get("name")
    if claims.get("email_verified") is False:  # the provider says it has not checked the address
        email = None
    with get_db().transaction() as db_session:
        outcome = identities.identify(
            db_session,
            provider,
            claims["sub"],
            email if isinstance(email, str) else None,
            display if isinstance(display, str) else None,
            groups,
            request.remote_addr or "-",
        )
        if outcome.user is None:
            assert outcome.refusal is not None
            log.info("sign-in through %s refused from %s: %s", name, request.remote_addr, outcome.refusal.key)
            refusal = outcome.refusal
        else:
            user = outcome.user
            home = url_for(f"{access.abilities(db_session, user).home}.index")
            signin.begin_session(db_session, user, f"oidc:{name}")
            welcome = t("ui.login.welcome", name=user.display_name)
    if outcome.user is None:
        return _refused(refusal, 403)
    flash(welcome)
    session[SIGNED_IN_AT] = name
    id_token = token.get("id_token", "")
    if len(id_token) <= LONGEST_KEPT_ID_TOKEN:
        session[ID_TOKEN] = id_token
    return redirect(home)


def _label(name: str) -> str:
    return str(current_app.extensions[EXTENSION].providers[name].label)


def _refused(message: Message, status: int) -> tuple[str, int]:
    """The login page again, with why the sign-in through a provider did not go through."""
    words = message.render(i18n.language_or_default(session.get("language")))
    return render_template("auth/login.html", username="", error=words), status


def single_logout_url() -> str | None:
    """Where to send the browser to end the session at the provider too (RP-initiated logout),
    then back to the login page (BASE_URL/login, registered at the provider); None when the
    person did not sign in through one or it has no end_session_endpoint. Read before the
    session is cleared."""
    name = session.get(SIGNED_IN_AT)
    providers: Providers | None = current_app.extensions.get(EXTENSION)
    if providers is None or name not in providers.providers:
        return None
    client = providers.client(name)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    hint = session.get(ID_TOKEN)
    extra = {} if hint else {"client_id": providers.settings[name]["client_id"]}
    logout: dict[str, str] = client.create_logout_url(
        post_logout_redirect_uri=current_app.config["BASE_URL"].rstrip("/") + "/login",
        id_token_hint=hint or None,
        **extra,
    )
    return logout["url"]
