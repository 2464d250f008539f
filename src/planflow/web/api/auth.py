"""Bearer tokens: `Authorization: Bearer pf_…` from `planflow users token USERNAME`. No token or
a bad one: 401 with WWW-Authenticate. An address that keeps sending bad tokens must wait (429
with Retry-After); the counts are in the database, shared by every worker (services.tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g, request
from sqlalchemy.orm import Session

from ...db import get_db
from ...services.authority import people, tokens
from . import bp
from .problems import ApiError

if TYPE_CHECKING:  # the row services hand back, named for the type checker only
    from ...models import User

CHALLENGE = 'Bearer realm="planflow"'
PUBLIC: set[str] = set()  # endpoints open without a token (the document and its reference page)


def public(endpoint: str) -> None:
    PUBLIC.add(f"{bp.name}.{endpoint}")


@bp.before_request
def authenticate() -> None:
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
    if request.endpoint in PUBLIC:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "error.api.no_token", headers={"WWW-Authenticate": CHALLENGE})
    address = request.remote_addr or "-"
    with get_db().reading() as session:
        check = tokens.check_token(session, token[:200], address)
    if check.retry_after is not None:
        raise ApiError(
            429,
            "error.api.slow_down",
            headers={"Retry-After": str(check.retry_after)},
            seconds=check.retry_after,
        )
    if check.needs_writing:
        with get_db().transaction() as session:
            tokens.settle(session, check, address)
    if check.user_id is None:
        raise ApiError(
            401,
            "error.api.bad_token",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    g.user_id, g.user_language = check.user_id, check.language


def caller(session: Session) -> User:
    """The authenticated user, in the route's own session."""
    user = people.active_user(session, g.user_id)
    if user is None:
        raise ApiError(401, "error.api.bad_token", headers={"WWW-Authenticate": CHALLENGE})
    return user
