"""Notices to people: what to say (a template key and its parameters, worded in the recipient's
language when shown or sent), to whom, and where its delivery stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Notice(Base):
    __tablename__ = "notice"
    __table_args__ = (
        # The sender's queue: what is unsent and due, oldest first.
        Index("ix_notice_outbox", "sent_at", "next_attempt_at"),
        # The digest's queue: a person's notices waiting for the next daily digest.
        Index("ix_notice_digest", "channel", "digest_id", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))  # a catalog key, e.g. notice.escalation
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Makes queuing idempotent: the same event never notifies the same person twice, even when
    # two processes queue it at once (the insert ignores a conflict on this key).
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    # How it leaves by mail: "mail" (as soon as it can: next_attempt_at is set when queued; when
    # several of a person's are due at once, the sender folds them into one "batch" notice, whose
    # id digest_id then holds), "digest" (folded into the recipient's daily digest, which is a
    # "mail" notice itself; digest_id names it) or "inapp" (never mailed).
    channel: Mapped[str] = mapped_column(String(16), default="mail", server_default="mail")
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    # Delivery: a sender claims a notice until `claimed_until` (a lease, so a sender that dies
    # lets go), counts attempts, keeps the last error and waits until `next_attempt_at`.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]  # seen in the inbox
