"""Signing in with a password, slowed down after failures, and what a new password must be.

Failures are rows in the database (not a per-process counter), so several web workers share the
count. After FREE failures within WINDOW, each further attempt must wait longer after the last
failure (doubling from FIRST_WAIT up to WINDOW); a refused attempt is not checked and not counted.
Failures are counted per account *from one address* (a few), per address (an office's NAT: more)
and per account from anywhere (many): a stranger who knows a username cannot lock its owner out
cheaply, and guessing one account's password from many addresses is still slowed down.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ... import clock, resources
from ...i18n import LANGUAGES, Message
from ...models import LoginFailure, User
from ..errors import InvalidInput

WINDOW = timedelta(minutes=15)
FIRST_WAIT = timedelta(seconds=30)
# Failures allowed before waiting starts: an address is shared by many people (an office's NAT);
# an account's own failures from everywhere stay free long enough that nobody is locked out by a
# stranger's few tries.
FREE = {"pair": 5, "address": 20, "account": 100}
PASSWORD_MIN, PASSWORD_MAX = 12, 256
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
    username, address = username.strip().lower()[:64], address[:64]
    keys = {
        "pair": f"pair:{username}@{address}",
        "address": f"address:{address}",
        "account": f"account:{username}",
    }
    wait = max(_wait(session, keys[kind], FREE[kind]) for kind in keys)
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        return LoginOutcome(None, Message("login.throttled", {"seconds": seconds}))
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    good = check_password_hash(stored, password) and user is not None and user.password_hash is not None
    if good and user is not None and user.active:
        # Only this address's count is cleared: the owner signing in does not wipe out what a
        # guesser elsewhere has been counted.
        session.execute(delete(LoginFailure).where(LoginFailure.key == keys["pair"]))
        return LoginOutcome(user)
    now = clock.now()
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - KEEP))
    session.add_all(LoginFailure(key=key, failed_at=now) for key in keys.values())
    return LoginOutcome(None, Message("login.failed"))


@cache
def _common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords (data/common-passwords.LICENSE), lower case."""
    with gzip.open(resources.data_file("common-passwords.txt.gz"), "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_refusal(password: str) -> Message | None:
    """Why a new password will not do, or None: too short or long, or on the list of common
    passwords (compared in lower case, as the list is kept). The one rule for every password set."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return Message("form.password_length", {"min": PASSWORD_MIN, "max": PASSWORD_MAX})
    if password.strip().lower() in _common_passwords():
        return Message("form.password_common")
    return None


def new_password_hash(password: str) -> str:
    """The hash to store for a new password; refuses (InvalidInput, beside the password field) one
    that `password_refusal` rejects. The password itself is never kept, logged or audited."""
    refusal = password_refusal(password)
    if refusal is not None:
        raise InvalidInput("error.input.invalid", fields={"password": refusal})
    return generate_password_hash(password)


def set_language(session: Session, user: User, language: str) -> None:
    """Remember the language a person reads planflow in."""
    if language not in LANGUAGES:
        raise InvalidInput(
            "error.input.invalid", fields={"language": Message("form.one_of", {"choices": "sv, en"})}
        )
    user.language = language
