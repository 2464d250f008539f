"""People: users, the roles they hold (optionally scoped), API tokens and substitutes."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column

if TYPE_CHECKING:
    from .plan import Activity, FocusArea


class Role(enum.StrEnum):
    """The roles of DOMAIN.md plus admin and dialogue; activity ownership is Activity.owner."""

    FOCUS_AREA_LEAD = "focus_area_lead"  # scoped to a focus area
    WORKING_GROUP = "working_group"  # scoped to a focus area
    PROCESS_LEADER = "process_leader"
    STEERING_GROUP = "steering_group"
    STEERING_CHAIR = "steering_chair"
    OFFICE_HEAD = "office_head"
    BOARD = "board"
    DIALOGUE = "dialogue"  # a business-organisation representative
    ADMIN = "admin"


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="sv")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    office: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # How notices reach the person by mail: "digest" (one a day), "immediate" (each at once) or
    # "off" (in the inbox only). Escalations are mailed at once unless "off".
    mail_delivery: Mapped[str] = mapped_column(String(16), default="digest", server_default="digest")
    # SHA-256 of the secret in the person's calendar feed address (/calendar/<secret>.ics).
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleAssignment.id"
    )


class RoleAssignment(Base):
    """A role a user holds, optionally only within one focus area or one activity."""

    __tablename__ = "role_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_area.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"), index=True)
    # The issuer of the identity provider whose group claim gave this role (None: given in
    # planflow): a group removed at the provider takes away only what the provider gave.
    granted_by_provider: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="roles")
    focus_area: Mapped[FocusArea | None] = relationship()
    activity: Mapped[Activity | None] = relationship()


class UserIdentity(Base):
    """Who a person is at an identity provider (OpenID Connect `iss` and `sub`, or a SAML IdP's
    entity id and NameID): how a sign-in there finds the planflow account, never by a name."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked
    # When it last opened a request, to the minute (writing it on every request would make every
    # read a write).
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AuthFailure(Base):
    """Bad API tokens from one address, counted in the database so that every worker process
    slows the same address down (a counter in memory would allow each process its own tries)."""

    __tablename__ = "auth_failure"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


class IdempotencyKey(Base):
    """A completion made with an Idempotency-Key: a retry of the same request by the same user
    answers `response` again instead of refusing a task that is already done."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Substitution(Base):
    """While it is in force, `substitute` may act on behalf of `absent` (the audit says so)."""

    __tablename__ = "substitution"

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime]

    absent: Mapped[User] = relationship(foreign_keys=[absent_id])
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id])
