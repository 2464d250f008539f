"""Notices to people: queued as a template key with parameters, worded in the recipient's language
only when shown or sent. Queuing is idempotent under races: the same event never notifies the same
person twice, whichever process gets there first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Message, text
from ...models import Notice, User
from ..authority import access
from ..authority.access import UseCase
from ..errors import InvalidInput, NotFound, quote
from ..records import audit
from ..records.audit import Actor, _plain

# A unit of work: `with transaction() as session:` commits or rolls back (Database.transaction).
Transaction = Callable[[], AbstractContextManager[Session]]


# Mailed on their own at once (unless the person wants no mail): everything else waits for the
# person's daily digest, or is mailed at once for those who chose "immediate".
IMMEDIATE_TEMPLATES = {"notice.escalation", "notice.overdue_escalation", "notice.digest", "notice.verbatim"}
MAIL_DELIVERIES = ("digest", "immediate", "off")
# Rows inserted per statement when queuing many at once (reminders).
INSERT_CHUNK = 1000


def channel(template: str, mail_delivery: str | None) -> str:
    """How a notice of `template` reaches a person who chose `mail_delivery`: mail, digest or inapp."""
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
        "next_attempt_at": now if how == "mail" else None,
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
    id: int
    subject: str
    body: str
    created_at: datetime
    read: bool


def render(notice: Notice, language: str | None) -> tuple[str, str]:
    """The notice's subject and body in `language`."""
    return (
        text(language, f"{notice.template}.subject", notice.params),
        text(language, f"{notice.template}.body", notice.params),
    )


def for_user(session: Session, user: User, limit: int = 50) -> list[NoticeView]:
    """The user's newest notices, worded in the user's language (the inbox shows them on top)."""
    notices = session.scalars(
        select(Notice).where(Notice.recipient_id == user.id).order_by(Notice.id.desc()).limit(limit)
    ).all()
    views = []
    for notice in notices:
        subject, body = render(notice, user.language)
        views.append(NoticeView(notice.id, subject, body, notice.created_at, notice.read_at is not None))
    return views


def make_digests(transaction: Transaction, today: date) -> int:
    """Fold each person's notices waiting for the digest into one digest notice for `today` (then
    mailed like any other); once per person and day, each waiting notice in one digest only.
    Returns how many digests were made."""
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
    """Choose how a person's notices are mailed: digest, immediate or off (audited)."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if delivery not in MAIL_DELIVERIES:
        raise InvalidInput(
            "error.input.invalid",
            fields={"delivery": Message("form.one_of", {"choices": ", ".join(MAIL_DELIVERIES)})},
        )
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("error.user.not_found", username=quote(username))
    user.mail_delivery = delivery
    audit.record(session, actor, "user.mail_delivery", "user", username, {"delivery": delivery})
