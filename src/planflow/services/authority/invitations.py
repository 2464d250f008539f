"""Invitations and password resets: a link that lets one person set their own password, once.

The link carries a token signed with the installation's secret (itsdangerous, which Flask already
uses) naming the person and a fingerprint of the password hash they have now. Setting a password
changes the hash, so the link is spent without a table to remember it by; it also expires (an
invitation after INVITE_DAYS, a reset after RESET_HOURS). The mail goes through the notices and
the mailer like every other mail, in the recipient's language; the token itself is never audited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Message
from ...models import User
from ..errors import Conflict, InvalidInput
from ..outputs import notices
from ..records import audit
from ..records.audit import Actor
from . import access, people
from .access import UseCase

INVITE_DAYS = 7
RESET_HOURS = 24
# The notice kind (a catalog key) of each link, how long the link lasts, and its audit action.
KINDS = {
    "invite": ("notice.account_invite", timedelta(days=INVITE_DAYS), "user.invite_sent"),
    "reset": ("notice.password_reset", timedelta(hours=RESET_HOURS), "user.reset_sent"),
}
# Where people sign in through their organisation's identity provider get this instead of a link.
SSO_INVITE = "notice.account_invite_sso"
SIGN_IN = "/login"
SALT = "planflow-password-link"
MAX_TOKEN = 400  # a token is ~120 characters; anything much longer is not one


def _serializer(secret: str) -> URLSafeSerializer:
    # Not itsdangerous's timed serializer: it reads the system's time, while the expiry must follow
    # planflow's clock (the one tests and the demo move); the expiry is signed inside the payload.
    return URLSafeSerializer(secret, salt=SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does (and differs from an account without one)."""
    return hashlib.sha256(f"{user.id}:{user.password_hash or ''}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class SentLink:
    """A link sent: to whom, its path on the site (/password/<token>), and until when it works."""

    username: str
    path: str
    kind: str


def send_link(
    session: Session, actor: Actor, username: str, kind: str, secret: str, passwords: bool = True
) -> SentLink:
    """Mail `username` a link that sets their password: an invitation or a reset (an admin's act,
    audited without the link). Returns the link, which the command line prints. Where people sign
    in only through an identity provider (`passwords` off: the LOCAL_LOGIN setting), an invitation
    says how to sign in there instead, and a reset is refused: there is no password to set."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if kind not in KINDS:
        choices = Message("form.one_of", {"choices": ", ".join(KINDS)})
        raise InvalidInput("error.input.invalid", fields={"kind": choices})
    user = people.get_user(session, username)
    if not user.active:
        raise Conflict("error.user.inactive", username=username)
    if not passwords:
        if kind == "reset":
            raise Conflict("error.password.not_used", username=username)
        params = {"name": user.display_name, "username": user.username, "path": SIGN_IN}
        sent_at = hashlib.sha256(f"{user.id} {clock.now().isoformat()}".encode()).hexdigest()[:24]
        notices.queue(session, [user], SSO_INVITE, params, sent_at)  # each invitation its own event
        audit.record(session, actor, "user.invite_sent", "user", username, {"sign_in": "provider"})
        return SentLink(user.username, SIGN_IN, kind)
    template, lasts, action = KINDS[kind]
    until = clock.now() + lasts
    payload = {"u": user.id, "f": _fingerprint(user), "k": kind, "e": int(until.timestamp())}
    token = str(_serializer(secret).dumps(payload))
    path = f"/password/{token}"
    params = {"name": user.display_name, "username": user.username, "path": path}
    # Each link sent is its own event: the key is the token's digest, never the token.
    notices.queue(session, [user], template, params, hashlib.sha256(token.encode()).hexdigest()[:24])
    audit.record(session, actor, action, "user", username, {"expires_at": until})
    return SentLink(user.username, path, kind)


def holder(session: Session, secret: str, token: str) -> User | None:
    """The active person a link's token names while it is unspent and unexpired, else None."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), int):
        return None
    if data["e"] <= clock.now().timestamp():
        return None
    user = session.get(User, data["u"])
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


def set_password(session: Session, secret: str, token: str, password: str) -> User:
    """Set the password of the person a link names (their own act, audited as theirs); the link is
    spent by it. A spent, expired or forged link changes nothing."""
    user = holder(session, secret, token)
    if user is None:
        raise InvalidInput("error.password_link.invalid")
    people.set_password(session, Actor(user), user.username, password)
    return user
