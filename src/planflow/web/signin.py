"""A signed-in session's beginning and end, the same for every way in (a password, an OpenID Connect
or a SAML identity provider): the session is kept on the server (services.authority.sessions), and
the browser's cookie holds only its token."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy.orm import Session

from ..db import get_db
from ..services.authority import sessions
from .site import SESSION_TOKEN, WebUser

if TYPE_CHECKING:  # the row services hand back, named for the type checker only
    from ..models import User


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


def safe_next(target: str | None, home: str = "inbox.index") -> str:
    """Only a path on this site: never an address elsewhere (an open redirect); else `home`."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for(home)


def end_session() -> None:
    """Sign this browser out: its session ends on the server, so a copy of the cookie opens nothing."""
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        with get_db().transaction() as db_session:
            sessions.end(db_session, token)
    logout_user()
    session.clear()
