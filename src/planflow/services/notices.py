"""Notices to people: queued as a template key with parameters, worded in the recipient's language
only when shown or sent. Queuing is idempotent under races: the same event never notifies the same
person twice, whichever process gets there first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import clock
from ..i18n import text
from ..models import Notice, User
from .audit import _plain


def queue(
    session: Session, recipients: Iterable[User], template: str, params: dict[str, Any], key: str
) -> int:
    """Queue one notice per recipient; `key` names the event, so queuing it again (or from a
    second process at the same time) adds nothing. Returns how many were new."""
    now = clock.now()
    rows = [
        {
            "recipient_id": person.id,
            "template": template,
            "params": _plain(params),
            "dedupe_key": f"{template}:{key}:{person.id}",
            "created_at": now,
            "attempts": 0,
        }
        for person in {p.id: p for p in recipients}.values()
    ]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Notice)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notice.id)
    )
    return len(session.execute(statement).all())


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
