"""The audit trail: an append-only chain of events, each carrying the SHA-256 of the one before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditEvent(Base):
    """One decision or state change. The application inserts these and never updates or deletes."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))  # a username, or "system" for timers and schedules
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's last link in one row: appending locks it, so appends never fork the chain,
    and verification can tell when events were cut off the end."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """The chain's head at one moment, signed with a key kept outside the database. Whoever can
    rewrite events and recompute every hash still cannot sign the result, so events up to a
    checkpoint are anchored. Seq is the key: one checkpoint per head state."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(88))  # Ed25519, 64 bytes in base64
    key_id: Mapped[str] = mapped_column(String(64))  # SHA-256 of the raw public key, hex
