"""The plan: focus areas, intervention areas and activities, each activity with its traffic light."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column

if TYPE_CHECKING:
    from .people import User


class Status(enum.StrEnum):
    """An activity's traffic light."""

    GREEN = "green"  # on plan
    YELLOW = "yellow"  # something deviates from plan
    RED = "red"  # does not go as planned at all

    @property
    def is_deviation(self) -> bool:
        return self is not Status.GREEN


class ActivityState(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class Plan(Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    # How URLs, the CLI and the API name the plan (`?plan=sodertalje-2016`); the first plan loaded
    # is the default one.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200))
    adopted_on: Mapped[date]
    strategy_start: Mapped[int]
    strategy_end: Mapped[int]
    source: Mapped[str] = mapped_column(String(500))

    focus_areas: Mapped[list[FocusArea]] = relationship(
        back_populates="plan", order_by="FocusArea.number", cascade="all, delete-orphan"
    )


class FocusArea(Base):
    __tablename__ = "focus_area"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))

    plan: Mapped[Plan] = relationship(back_populates="focus_areas")
    intervention_areas: Mapped[list[InterventionArea]] = relationship(
        back_populates="focus_area", order_by="InterventionArea.number", cascade="all, delete-orphan"
    )

    @property
    def code(self) -> str:
        return str(self.number)


class InterventionArea(Base):
    __tablename__ = "intervention_area"
    __table_args__ = (UniqueConstraint("focus_area_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_area_id: Mapped[int] = mapped_column(ForeignKey("focus_area.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    # The seed's "Genom att…" sentence: how the municipality works in this area.
    approach: Mapped[str | None] = mapped_column(Text)

    focus_area: Mapped[FocusArea] = relationship(back_populates="intervention_areas")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="intervention_area", order_by="Activity.number", cascade="all, delete-orphan"
    )

    @property
    def code(self) -> str:
        return f"{self.focus_area.number}.{self.number}"


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("intervention_area_id", "number"),
        UniqueConstraint("plan_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the intervention area so that a code is unique within its plan.
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    intervention_area_id: Mapped[int] = mapped_column(ForeignKey("intervention_area.id"), index=True)
    number: Mapped[int]
    # focus area.intervention area.activity, e.g. "3.4.2"; stable once given, unique in its plan.
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    office: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    state: Mapped[ActivityState] = mapped_column(enum_column(ActivityState), default=ActivityState.ACTIVE)
    status: Mapped[Status | None] = mapped_column(enum_column(Status))
    status_changed_at: Mapped[datetime | None]
    # Invented owner, office and dates (the seed names none): shown as demo data wherever they show.
    is_demo: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[Plan] = relationship()
    intervention_area: Mapped[InterventionArea] = relationship(back_populates="activities")
    owner: Mapped[User | None] = relationship()
