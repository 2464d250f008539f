"""What the reporting chain produces: cycles, status reports, deviations, decisions and the
records of each step (area reviews, business dialogues, steering meetings, annual reports)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column
from .plan import Status

if TYPE_CHECKING:
    from .people import User
    from .plan import Activity, FocusArea


class CycleState(enum.StrEnum):
    OPENING = "opening"  # its reports are being started, batch by batch (cycles.open_reports)
    OPEN = "open"
    REPORTED = "reported"  # the steering group has met on it
    CANCELLED = "cancelled"  # started by mistake and cancelled before anything was reported


# A plan's live cycles (every one not cancelled), written out so that the partial unique index
# below and the queries that must use it say the same thing.
LIVE_CYCLE = text("state != 'cancelled'")  # unqualified: an index predicate names no table

# The longest diarienummer kept ("KS 2026/1234" is 12; a registry's own prefixes run longer).
CASE_NUMBER_LENGTH = 64


class ReviewOutcome(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class AreaReviewState(enum.StrEnum):
    SUMMARISING = "summarising"  # waiting for the lead's summary
    SUMMARISED = "summarised"  # waiting for the process leader
    CONFIRMED = "confirmed"


class DeviationState(enum.StrEnum):
    OPEN = "open"  # waiting for the process leader's recommendation
    RECOMMENDED = "recommended"  # waiting for the focus-area lead to agree
    AGREED = "agreed"  # waiting for the steering group
    DECIDED = "decided"


class ProposalState(enum.StrEnum):
    DRAFTING = "drafting"  # with the focus-area lead
    PROPOSED = "proposed"  # with the process leader
    CHECKED = "checked"  # with the steering group
    APPROVED = "approved"
    REJECTED = "rejected"


class AnnualReportState(enum.StrEnum):
    COMPILING = "compiling"
    COMPILED = "compiled"
    APPROVED = "approved"
    NOTED = "noted"


class DecidingBody(enum.StrEnum):
    """Whose decision a Decision is: the body decides, a person records it."""

    STEERING_GROUP = "steering_group"
    BOARD = "board"


class ReportingCycle(Base):
    """One round of the reporting chain for a period such as 2026-Q4."""

    __tablename__ = "reporting_cycle"
    # One live cycle per plan and period: a cancelled one stays as a record, and its period may
    # start again (cycles.cancel).
    __table_args__ = (
        Index(
            "uq_reporting_cycle_live_period",
            "plan_id",
            "period",
            unique=True,
            postgresql_where=LIVE_CYCLE,
            sqlite_where=LIVE_CYCLE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    period: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date]
    # Days a red deviation of this cycle may wait for a decision before it is escalated.
    escalation_days: Mapped[int] = mapped_column(default=14, server_default="14")
    state: Mapped[CycleState] = mapped_column(enum_column(CycleState), default=CycleState.OPENING)
    # While opening: the last activity (by id) whose report is started; the next batch goes on from
    # there, so no batch re-reads what earlier ones did, and a crash resumes where it stopped.
    opened_through: Mapped[int | None]
    started_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # The diarienummer the municipality's registry gave the cycle's steering report (records.case_numbers).
    case_number: Mapped[str | None] = mapped_column(String(CASE_NUMBER_LENGTH))


class StatusReport(Base):
    """An owner's report of one activity's traffic light, and the lead's review of it."""

    __tablename__ = "status_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    # The workflow task it completed: a second completion of that task cannot add a second report.
    task_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[Status] = mapped_column(enum_column(Status))
    comment: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime]
    review: Mapped[ReviewOutcome] = mapped_column(enum_column(ReviewOutcome), default=ReviewOutcome.PENDING)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class Deviation(Base):
    """A yellow or red report's deviation: cause, joint recommendation, steering-group decision."""

    __tablename__ = "deviation"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    status_report_id: Mapped[int] = mapped_column(ForeignKey("status_report.id"), unique=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    level: Mapped[Status] = mapped_column(enum_column(Status))
    cause: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    state: Mapped[DeviationState] = mapped_column(enum_column(DeviationState), default=DeviationState.OPEN)
    opened_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship()


class Decision(Base):
    """A decision of the steering group (or the board): what, on which grounds, recorded by whom
    (and for whom, when a substitute recorded it), when."""

    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[DecidingBody] = mapped_column(enum_column(DecidingBody))
    # deviation | proposal | annual_report
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    decision: Mapped[str] = mapped_column(String(24))
    rationale: Mapped[str] = mapped_column(Text)
    # Who recorded it (the chair, or the chair's substitute), and the absent chair it was done for.
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime]
    # One decision per completed task, whatever races or retries happen.
    task_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    case_number: Mapped[str | None] = mapped_column(String(CASE_NUMBER_LENGTH))  # its diarienummer

    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])


class AreaReview(Base):
    """Step 2: a focus-area lead's summary of the area and the process leader's confirmation."""

    __tablename__ = "area_review"
    __table_args__ = (UniqueConstraint("cycle_id", "focus_area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"))
    focus_area_id: Mapped[int] = mapped_column(ForeignKey("focus_area.id"))
    state: Mapped[AreaReviewState] = mapped_column(
        enum_column(AreaReviewState), default=AreaReviewState.SUMMARISING
    )
    summary: Mapped[str | None] = mapped_column(Text)
    summarised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]

    focus_area: Mapped[FocusArea] = relationship()


class BusinessDialogue(Base):
    """Step 3: the process leader's status check with the business community."""

    __tablename__ = "business_dialogue"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), unique=True)
    forums: Mapped[list[str]] = mapped_column(JSON)
    held_on: Mapped[date]
    heard: Mapped[str] = mapped_column(Text)
    ideas: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime]


class DialogueFeedback(Base):
    """What a business-organisation representative adds while the dialogue step is open."""

    __tablename__ = "dialogue_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    feedback: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime]

    author: Mapped[User] = relationship()


class SteeringMeeting(Base):
    """Step 4: the steering group's meeting on the cycle: minutes, priorities, who closed it."""

    __tablename__ = "steering_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), unique=True)
    notes: Mapped[str] = mapped_column(Text)
    priorities: Mapped[str | None] = mapped_column(Text)
    # The deviations the chair left open to the next meeting, as they stood when it closed: each
    # {"deviation": id, "activity": code, "state": a DeviationState, "stands": awaiting | returned |
    # preparing} (workflows/README.md, "Who decides": a meeting closes with none unaccounted for).
    left_open: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime]


class AnnualReport(Base):
    """Step 5: December's status of all decided and completed activities, for the board."""

    __tablename__ = "annual_report"
    __table_args__ = (UniqueConstraint("plan_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    year: Mapped[int]
    summary: Mapped[str | None] = mapped_column(Text)
    # The activities' statuses and decisions as compiled: the report does not change afterwards.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[AnnualReportState] = mapped_column(
        enum_column(AnnualReportState), default=AnnualReportState.COMPILING
    )
    compiled_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    noted_at: Mapped[datetime | None]
    # The board's decision to take note, as its minutes record it: the meeting's date and the §.
    board_decided_on: Mapped[date | None]
    board_paragraph: Mapped[str | None] = mapped_column(String(32))
    case_number: Mapped[str | None] = mapped_column(String(CASE_NUMBER_LENGTH))  # its diarienummer


class ActivityProposal(Base):
    """A focus-area lead's proposal for a new activity, on its way to the steering group."""

    __tablename__ = "activity_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_area_id: Mapped[int] = mapped_column(ForeignKey("focus_area.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str | None] = mapped_column(String(300))
    intervention_area_id: Mapped[int | None] = mapped_column(ForeignKey("intervention_area.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    why: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ProposalState] = mapped_column(enum_column(ProposalState), default=ProposalState.DRAFTING)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    created_at: Mapped[datetime]


class SteeringComment(Base):
    """A steering-group member's word on something awaiting the group (a deviation, a proposal,
    the annual report), written before the chair records the group's decision: shown to the chair
    beside the decision form, and tied to the decision once it is taken."""

    __tablename__ = "steering_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))  # deviation | proposal | annual_report
    subject_id: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    comment: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))  # set when decided

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    __table_args__ = (Index("ix_steering_comment_subject", "subject_type", "subject_id", "id"),)
