"""Signed-in sessions kept on the server, so that they can end.

Sign-in (a password, or an identity provider) calls `start`, which hands back a random token for
the browser's cookie and keeps only its SHA-256. Every request asks `live` whether the token still
opens a session: not ended, not idle longer than the configured lifetime, its account active.
`end` ends one (sign-out, "end this one"); `end_all` ends every session of a person at once (a
password change, deactivation, the last role revoked, an administrator's "sign out everywhere").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ... import clock
from ...models import User, UserSession
from ..errors import NotFound, quote
from ..records import audit
from ..records.audit import Actor
from . import access
from .access import UseCase

SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is kept to this precision
USER_AGENT_CHARS = 200
ADDRESS_CHARS = 64
HOW_CHARS = 300


KEEP = timedelta(days=90)  # an ended or idle session's row is kept this long: who signed in, how


def session_id(token: str) -> str:
    """The id a token's session is kept under (its SHA-256): names it, opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, how: str, address: str, user_agent: str) -> str:
    """Open a session for `user`, identified by `how` ("password", "oidc:<issuer>",
    "saml:<entity id>"); returns the token for the cookie (stored only as its hash)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.execute(delete(UserSession).where(UserSession.last_seen_at < now - KEEP))
    session.add(
        UserSession(
            id=session_id(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=address[:ADDRESS_CHARS],
            user_agent=user_agent[:USER_AGENT_CHARS],
            how=how[:HOW_CHARS],
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class LiveSession:
    """Whom a live session stands for, and whether its last use must be written down."""

    user_id: int
    username: str
    display_name: str
    language: str
    stale: bool  # last_seen_at is older than SEEN_EVERY: `seen` should write it


def live(session: Session, token: str, idle: timedelta) -> LiveSession | None:
    """The person a token's session stands for, while it is open: not ended, used within `idle`,
    the account active. Only reads (every page asks); `seen` writes the use down."""
    now = clock.now()
    row = session.execute(
        select(User.id, User.username, User.display_name, User.language, UserSession.last_seen_at)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.id == session_id(token),
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - idle,
            User.active.is_(True),
        )
    ).one_or_none()
    if row is None:
        return None
    user_id, username, display_name, language, last_seen = row
    return LiveSession(user_id, username, display_name, language, last_seen <= now - SEEN_EVERY)


def seen(session: Session, token: str) -> None:
    """Note that a session was used now (called at most once a minute per session: see `live`)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id(token), UserSession.ended_at.is_(None))
        .values(last_seen_at=clock.now())
    )


def end(session: Session, token: str, why: str = "signed_out") -> None:
    """End the session a token opens (signing out); an unknown or ended one is left as it is."""
    _end(session, [UserSession.id == session_id(token)], why)


def end_all(session: Session, user: User, why: str) -> int:
    """End every open session of `user` at once; returns how many. The caller's own act (a
    password change, deactivation) is audited by the caller; see `sign_out_everywhere`."""
    return _end(session, [UserSession.user_id == user.id], why)


def _end(session: Session, where: list[ColumnElement[bool]], why: str) -> int:
    result = session.execute(
        update(UserSession)
        .where(*where, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), ended_why=why)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def sign_out_everywhere(session: Session, actor: Actor, username: str) -> tuple[User, int]:
    """An administrator ends every session of a person (audited, with how many ended); returns
    the person, whom the confirmation names, and the count."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("error.user.not_found", username=quote(username))
    ended = end_all(session, user, "signed_out_everywhere")
    audit.record(session, actor, "user.signed_out_everywhere", "user", user.username, {"sessions": ended})
    return user, ended


@dataclass(frozen=True)
class SessionView:
    """One of a person's open sessions as their account page lists it."""

    id: str  # the token's hash: ends it from a form, opens nothing
    created_at: datetime
    last_seen_at: datetime
    address: str
    user_agent: str
    how: str
    current: bool


def open_sessions(
    session: Session, user: User, idle: timedelta, current_token: str | None
) -> list[SessionView]:
    """A person's open sessions, the most recently used first, the one asking marked."""
    current = session_id(current_token) if current_token else None
    rows = session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > clock.now() - idle,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
    ).all()
    return [
        SessionView(r.id, r.created_at, r.last_seen_at, r.address, r.user_agent, r.how, r.id == current)
        for r in rows
    ]


def end_own(session: Session, user: User, chosen: str, why: str = "ended_by_owner") -> bool:
    """A person ends one of their own sessions by its id (`SessionView.id`); another person's
    session is not theirs to end. Returns whether one ended."""
    where = [UserSession.id == chosen[:64], UserSession.user_id == user.id]
    return _end(session, where, why) > 0


def end_others(session: Session, user: User, current_token: str) -> int:
    """A person ends every session of theirs but the one asking; returns how many."""
    where = [UserSession.user_id == user.id, UserSession.id != session_id(current_token)]
    return _end(session, where, "ended_by_owner")
