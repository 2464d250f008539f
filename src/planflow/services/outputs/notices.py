"""Notices to people: queued as a template key with parameters, worded in the recipient's language
only when shown or sent. Queuing is idempotent under races: the same event never notifies the same
person twice, whichever process gets there first.

Each person chooses how notices reach them by mail (`set_mail_delivery`, their own or, for an
administrator, anyone's): one digest a working day (the default), each at once, or none; on the site
they are all listed (`page`), the unread ones counted in the header (`unread_count`). Escalations are
mailed at once whatever the choice but "off". The mailer folds what is due for one person at once
into one mail (mailer.py); the digest folds the day's. Mail leaves on working days only
(workdays.mail_from): what is made on a day off waits for the next working day's morning.

Every mail carries a link that turns the recipient's mail off (`unsubscribe_token`, `unsubscribe`):
the token, signed with the installation's secret, is the authority, so no login is needed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Mark, Message, text
from ...models import Notice, User
from .. import workdays
from ..authority import access
from ..authority.access import UseCase
from ..errors import InvalidInput, NotFound, quote
from ..records import audit
from ..records.audit import Actor, _plain

# A unit of work: `with transaction() as session:` commits or rolls back (Database.transaction).
Transaction = Callable[[], AbstractContextManager[Session]]


# Mailed at once (unless the person wants no mail): everything else waits for the person's daily
# digest, or is mailed at once for those who chose "immediate".
IMMEDIATE_TEMPLATES = {"notice.escalation", "notice.overdue_escalation", "notice.digest", "notice.verbatim"}
# Mails that carry other notices (digest_id names the one a notice went in): the daily digest, and
# the batch of one person's notices that were due at the same moment (mailer.py).
FOLDS = frozenset({"notice.digest", "notice.batch"})
# Mailed on their own, never folded into a batch: the folds themselves, and the verbatim text of
# notices from before templates (its own subject). Escalations due at once fold like the rest: ten
# overdue tasks escalated to one lead in one run are one mail listing them.
# A link that sets a person's password (authority.invitations): mailed at once, alone, on any
# day and whatever the person chose for notices, since it is how they get in at all.
ACCOUNT_TEMPLATES = frozenset({"notice.account_invite", "notice.account_invite_sso", "notice.password_reset"})
ALONE = frozenset(FOLDS | ACCOUNT_TEMPLATES | {"notice.verbatim"})
MAIL_DELIVERIES = ("digest", "immediate", "off")
# The header counts unread notices up to this many ("99+" beyond): a bounded read on every page.
UNREAD_CAP = 100
PAGE_LIMIT = 100  # notices the page and the API list, newest first
# Rows inserted per statement when queuing many at once (reminders).
INSERT_CHUNK = 1000


def channel(template: str, mail_delivery: str | None) -> str:
    """How a notice of `template` reaches a person who chose `mail_delivery`: mail, digest or inapp."""
    if template in ACCOUNT_TEMPLATES:
        return "mail"
    if mail_delivery == "off":
        return "inapp"
    if template in IMMEDIATE_TEMPLATES or mail_delivery == "immediate":
        return "mail"
    return "digest"


def row(
    recipient_id: int, mail_delivery: str | None, template: str, params: dict[str, Any], key: str
) -> dict[str, Any]:
    """One notice to insert (see insert); `key` names the event it is about."""
    now = clock.now()
    how = channel(template, mail_delivery)
    return {
        "recipient_id": recipient_id,
        "template": template,
        "params": _plain(params),
        "dedupe_key": f"{template}:{key}:{recipient_id}",
        "created_at": now,
        "attempts": 0,
        "channel": how,
        # Mail made on a day off (an escalation's timer on Christmas Eve) waits for a working day.
        "next_attempt_at": (now if template in ACCOUNT_TEMPLATES else workdays.mail_from(now))
        if how == "mail"
        else None,
    }


def insert(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Insert notices, skipping those whose dedupe key is queued already (by anyone, even at this
    moment in another process); returns the dedupe keys that were new."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    new: list[str] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            dialect.insert(Notice)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Notice.dedupe_key)
        )
        new.extend(session.scalars(statement).all())
    return new


def queue(
    session: Session, recipients: Iterable[User], template: str, params: dict[str, Any], key: str
) -> int:
    """Queue one notice per recipient; `key` names the event, so queuing it again (or from a
    second process at the same time) adds nothing. Returns how many were new."""
    people = {p.id: p for p in recipients}.values()
    return len(insert(session, [row(p.id, p.mail_delivery, template, params, key) for p in people]))


@dataclass(frozen=True)
class NoticeView:
    """A notice as its recipient reads it, in their language, with where it leads on the site."""

    id: int
    template: str
    subject: str
    body: str
    created_at: datetime
    read: bool
    link: str | None  # a path on the site: the task (/tasks/<id>), or the inbox


def link(params: dict[str, Any]) -> str | None:
    """Where a notice leads on the site (a path; mail puts the site's address before it)."""
    if params.get("task_id"):
        return f"/tasks/{params['task_id']}"
    path = params.get("path")
    return path if isinstance(path, str) and path.startswith("/") else None


def render(notice: Notice, language: str | None, mark: Mark | None = None) -> tuple[str, str]:
    """The notice's subject and body in `language` (the plan's words it quotes marked by `mark`,
    on a page)."""
    return (
        text(language, f"{notice.template}.subject", notice.params, mark),
        text(language, f"{notice.template}.body", notice.params, mark),
    )


def _shown(user: User) -> Any:
    """A person's notices as the site lists them: not the mails that carry others (a digest)."""
    return (Notice.recipient_id == user.id) & Notice.template.not_in(FOLDS)


def for_user(session: Session, user: User, limit: int = 50, mark: Mark | None = None) -> list[NoticeView]:
    """The user's newest notices, worded in the user's language (the inbox shows them on top);
    a page passes `mark` to mark the plan's words they quote."""
    notices = session.scalars(
        select(Notice).where(_shown(user)).order_by(Notice.id.desc()).limit(limit)
    ).all()
    views = []
    for notice in notices:
        subject, body = render(notice, user.language, mark)
        views.append(
            NoticeView(
                notice.id,
                notice.template,
                subject,
                body,
                notice.created_at,
                notice.read_at is not None,
                link(notice.params),
            )
        )
    return views


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notices are unread, counted up to UNREAD_CAP (the header's count)."""
    some = select(Notice.id).where(_shown(user), Notice.read_at.is_(None)).limit(UNREAD_CAP).subquery()
    return session.scalar(select(func.count()).select_from(some)) or 0


@dataclass(frozen=True)
class NoticeList:
    """A person's notices page: the newest notices, how many are unread, and how they are mailed."""

    items: tuple[NoticeView, ...]
    unread: int  # up to UNREAD_CAP
    mail_delivery: str  # digest | immediate | off


def page(session: Session, user: User, limit: int = PAGE_LIMIT, mark: Mark | None = None) -> NoticeList:
    """The user's own notices (nobody reads another's), worded in the user's language."""
    shown = tuple(for_user(session, user, limit, mark))
    return NoticeList(shown, unread_count(session, user), user.mail_delivery)


def mark_read(session: Session, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notices read: those of `ids` (others' are left alone), or all with None.
    Returns how many were unread. Not audited: reading is no act on the records."""
    condition = _shown(user) & Notice.read_at.is_(None)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        condition = condition & Notice.id.in_(wanted)
    result = session.execute(update(Notice).where(condition).values(read_at=clock.now()))
    return int(getattr(result, "rowcount", 0) or 0)


def make_digests(transaction: Transaction, today: date) -> int:
    """Fold each person's notices waiting for the digest into one digest notice for `today` (then
    mailed like any other); once per person and day, each waiting notice in one digest only.
    Made on working days only (services/workdays): on a weekend or a holiday the notices wait for
    the next working day's digest. Returns how many digests were made."""
    if not workdays.is_working_day(today):
        return 0
    with transaction() as session:
        recipients = session.scalars(
            select(Notice.recipient_id)
            .where(Notice.channel == "digest", Notice.digest_id.is_(None))
            .group_by(Notice.recipient_id)
            .order_by(Notice.recipient_id)
        ).all()
    made = 0
    for recipient_id in recipients:
        with transaction() as session:
            person = session.get(User, recipient_id)
            waiting = session.scalars(
                select(Notice.id)
                .where(
                    Notice.channel == "digest",
                    Notice.digest_id.is_(None),
                    Notice.recipient_id == recipient_id,
                )
                .order_by(Notice.id)
                .with_for_update()
            ).all()
            if person is None or not waiting:
                continue
            params = {"count": len(waiting), "date": today.isoformat()}
            keys = insert(session, [row(person.id, "immediate", "notice.digest", params, today.isoformat())])
            if not keys:  # today's digest has gone out: the rest waits for tomorrow's
                continue
            digest_id = session.scalars(select(Notice.id).where(Notice.dedupe_key == keys[0])).one()
            session.execute(update(Notice).where(Notice.id.in_(waiting)).values(digest_id=digest_id))
            made += 1
    return made


def set_mail_delivery(session: Session, actor: Actor, username: str, delivery: str) -> None:
    """Choose how a person's notices are mailed: digest, immediate or off (audited). Everyone
    chooses their own; an administrator (or the operator) anyone's."""
    user = session.scalar(select(User).where(User.username == username))
    if actor.user is None or user is None or actor.user.id != user.id or not user.active:
        actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if delivery not in MAIL_DELIVERIES:
        raise InvalidInput(
            "error.input.invalid",
            fields={"delivery": Message("form.one_of", {"choices": ", ".join(MAIL_DELIVERIES)})},
        )
    if user is None:
        raise NotFound("error.user.not_found", username=quote(username))
    user.mail_delivery = delivery
    audit.record(session, actor, "user.mail_delivery", "user", username, {"delivery": delivery})


def unsubscribe_token(key: str, user_id: int) -> str:
    """The token in every mail to a person that turns their mail off (RFC 8058 one-click): their id
    and a MAC of it under the installation's secret `key`, so no one can make another's."""
    mac = hmac.new(key.encode("utf-8"), f"planflow-unsubscribe:{user_id}".encode(), hashlib.sha256)
    return f"{user_id}.{base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b'=').decode('ascii')}"


def unsubscriber(session: Session, key: str, token: str) -> User | None:
    """The active person a token of `unsubscribe_token` names, or None for any other string."""
    user_id = token.partition(".")[0]
    if not (0 < len(user_id) <= 12 and user_id.isascii() and user_id.isdigit()):
        return None
    if not hmac.compare_digest(token.encode("utf-8"), unsubscribe_token(key, int(user_id)).encode("utf-8")):
        return None
    user = session.get(User, int(user_id))
    return user if user is not None and user.active else None


def unsubscribe(session: Session, key: str, token: str) -> User | None:
    """Turn off the mail of the person the token names (their own act, audited; the token is the
    authority, as the link in their mail): returns them, or None when the token names no one."""
    user = unsubscriber(session, key, token)
    if user is not None and user.mail_delivery != "off":
        set_mail_delivery(session, Actor(user), user.username, "off")
    return user
