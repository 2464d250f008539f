"""Signing in with a password, slowed down after failures per account and per address.

Failures are rows in the database (not a per-process counter), so several web workers share the
count. After FREE failures within WINDOW, each further attempt must wait longer after the last
failure (doubling from FIRST_WAIT up to WINDOW); a refused attempt is not checked and not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ... import clock
from ...i18n import LANGUAGES, Message
from ...models import LoginFailure, User
from ..errors import InvalidInput

WINDOW = timedelta(minutes=15)
FIRST_WAIT = timedelta(seconds=30)
# Failures allowed before waiting starts: an address is shared by many people (an office's NAT).
FREE = {"account": 5, "address": 20}
KEEP = timedelta(days=1)
# Compared against when the account is unknown, so that a wrong username takes as long as a
# wrong password and does not tell which accounts exist.
_DUMMY_HASH = generate_password_hash("not a password")


@dataclass(frozen=True)
class LoginOutcome:
    """The user signed in, or why not (a Message to show); the caller commits either way, so that
    failures are counted."""

    user: User | None
    refusal: Message | None = None


def _wait(session: Session, key: str, free: int) -> timedelta:
    now = clock.now()
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.failed_at)).where(
            LoginFailure.key == key, LoginFailure.failed_at > now - WINDOW
        )
    ).one()
    if count < free or last is None:
        return timedelta(0)
    wait = min(WINDOW, FIRST_WAIT * 2 ** (count - free))
    if last.tzinfo is None:  # SQLite's aggregate bypasses the column type
        last = last.replace(tzinfo=now.tzinfo)
    return max(timedelta(0), last + wait - now)


def sign_in(session: Session, username: str, password: str, address: str) -> LoginOutcome:
    """Check a username and password; count a failure against the account and the address."""
    username = username.strip().lower()[:64]
    keys = {"account": f"account:{username}", "address": f"address:{address[:64]}"}
    wait = max(_wait(session, keys[kind], FREE[kind]) for kind in keys)
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        return LoginOutcome(None, Message("login.throttled", {"seconds": seconds}))
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    good = check_password_hash(stored, password) and user is not None and user.password_hash is not None
    if good and user is not None and user.active:
        session.execute(delete(LoginFailure).where(LoginFailure.key == keys["account"]))
        return LoginOutcome(user)
    now = clock.now()
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - KEEP))
    session.add_all(LoginFailure(key=key, failed_at=now) for key in keys.values())
    return LoginOutcome(None, Message("login.failed"))


def set_language(session: Session, user: User, language: str) -> None:
    """Remember the language a person reads planflow in."""
    if language not in LANGUAGES:
        raise InvalidInput(
            "error.input.invalid", fields={"language": Message("form.one_of", {"choices": "sv, en"})}
        )
    user.language = language
