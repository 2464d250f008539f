"""Failed sign-ins, counted in the database so that every web worker sees the same count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LoginFailure(Base):
    """One failed sign-in, counted against an account (`account:<username>`) and an address
    (`address:<ip>`) alike: two rows per failure."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime]

    __table_args__ = (Index("ix_login_failure_key_failed_at", "key", "failed_at"),)


class SamlSeenId(Base):
    """A SAML response's or assertion's ID, kept until it has expired, so that the same signed
    response posted again (a replay) is refused by whichever web worker receives it."""

    __tablename__ = "saml_seen_id"

    # "<provider name> <ID>": an IdP's IDs are unique to it, not across federations.
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    seen_at: Mapped[datetime]
    keep_until: Mapped[datetime] = mapped_column(index=True)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, this row its SHA-256 (a copy of the
    database opens no session). A session ends at sign-out, a password change, deactivation, an
    administrator's "sign out everywhere", or when it has been idle too long."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime]
    # To the minute: writing it on every request would make every page a write.
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200))
    # How the person proved who they are: "password", "oidc:<issuer>", "saml:<entity id>".
    how: Mapped[str] = mapped_column(String(300))
