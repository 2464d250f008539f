"""Opening an API request with a bearer token: which user it is, when the token was last used,
and slowing down an address that keeps sending bad tokens.

A live token is always looked at and accepted, however many bad ones its address has sent: an
address is often a whole town hall behind one NAT or proxy, and one person's broken script must
not shut out everyone else's good tokens. Only unknown tokens are counted and, once an address has
used its free tries, refused unlooked-at until it has waited. A good token does not clear the
count either (a guesser holding one valid token could otherwise reset it between guesses).

The check reads; only what it found that must be remembered (a bad token counted, an address's
count cleared, a token's last use) is written, in a short transaction of its own, so that a
request that only reads never takes the write lock for its token. Counts are kept in the
database: every worker process sees the same ones."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import literal, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...models import ApiToken, AuthFailure, User
from .people import live_token

FREE_TRIES = 5  # bad tokens an address may send within WINDOW before it must wait
WINDOW = timedelta(minutes=15)
MAX_WAIT = 300  # seconds: the wait doubles with every further bad token, up to this
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is kept to this precision


@dataclass(frozen=True)
class TokenCheck:
    """What checking one token from one address found."""

    user_id: int | None  # None: no live token
    token_id: int | None = None
    retry_after: int | None = None  # seconds the address must wait: the (unknown) token is refused
    failures: int = 0  # bad tokens counted for the address in the current window
    touch: bool = False  # the token's last use is older than TOUCH_EVERY
    language: str | None = None  # the user's own language, for the words of errors

    @property
    def needs_writing(self) -> bool:
        if self.user_id is not None:
            return self.touch
        return self.retry_after is None  # a bad token counted (one refused unlooked-at is not)


def check_token(session: Session, token: str, address: str) -> TokenCheck:
    """Look a bearer token up, with its address's count of bad tokens, in one statement (every API
    request makes it): a live token opens the request whatever the count; an unknown one from an
    address that must wait is refused with the wait."""
    now = clock.now()
    live = (
        select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at, User.language)
        .join(User, User.id == ApiToken.user_id)
        .where(*live_token(token))
        .subquery()
    )
    one_row = select(literal(1).label("one")).subquery()
    failures, last_at, blocked_until, token_id, user_id, last_used, language = session.execute(
        select(
            AuthFailure.failures,
            AuthFailure.last_at,
            AuthFailure.blocked_until,
            live.c.id,
            live.c.user_id,
            live.c.last_used_at,
            live.c.language,
        )
        .select_from(one_row)
        .outerjoin(AuthFailure, AuthFailure.address == address[:64])
        .outerjoin(live, true())
    ).one()
    counted = failures if failures is not None and last_at > now - WINDOW else 0
    if user_id is not None:
        touch = last_used is None or last_used <= now - TOUCH_EVERY
        return TokenCheck(user_id, token_id, failures=counted, touch=touch, language=language)
    if counted and blocked_until is not None and blocked_until > now:
        wait = math.ceil((blocked_until - now).total_seconds())
        return TokenCheck(None, retry_after=max(wait, 1), failures=counted)
    return TokenCheck(None, failures=counted)


def settle(session: Session, check: TokenCheck, address: str) -> int | None:
    """Remember what `check` found: count a bad token (and make the address wait once it has
    used its free tries), note a token's use. Returns the seconds the address must now wait, if
    any."""
    now, address = clock.now(), address[:64]
    if check.user_id is not None:
        if check.touch:
            session.execute(update(ApiToken).where(ApiToken.id == check.token_id).values(last_used_at=now))
        return None
    failure = session.get(AuthFailure, address, with_for_update=True, populate_existing=True)
    if failure is None:
        try:
            with session.begin_nested():
                failure = AuthFailure(address=address, failures=0, first_at=now, last_at=now)
                session.add(failure)
                session.flush()
        except IntegrityError:  # another worker counted this address's first bad token
            failure = session.get(AuthFailure, address, with_for_update=True, populate_existing=True)
            assert failure is not None
    if failure.last_at <= now - WINDOW:
        failure.failures, failure.first_at, failure.blocked_until = 0, now, None
    failure.failures += 1
    failure.last_at = now
    over = failure.failures - FREE_TRIES
    if over <= 0:
        return None
    wait = min(2 ** (over - 1), MAX_WAIT)
    failure.blocked_until = now + timedelta(seconds=wait)
    return wait
