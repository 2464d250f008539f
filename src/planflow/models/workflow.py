"""Running processes: each instance is its serialized state plus narrow projections (open human
tasks, pending timers) so that inboxes and due timers are answered without deserializing."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Computed, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_column

if TYPE_CHECKING:
    from .people import User


class InstanceState(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # ended where it stood: its cycle was cancelled (cycles.cancel)


# The running instances, written out (not a bound parameter) so that PostgreSQL can prove a
# query's rows lie in the partial index ix_process_instance_running, in a generic plan too.
RUNNING_ONLY = text("status = 'running'")  # unqualified: an index predicate names no table


class ProcessSpec(Base):
    """A BPMN file as it was when an instance started; instances point here by content hash,
    so a changed diagram never changes a process that is already under way."""

    __tablename__ = "process_spec"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime]


class ProcessInstance(Base):
    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    spec_hash: Mapped[str] = mapped_column(ForeignKey("process_spec.hash"))
    serializer_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(Text)
    status: Mapped[InstanceState] = mapped_column(enum_column(InstanceState), default=InstanceState.RUNNING)
    # What the instance is about; copied into its open tasks for scoping and inbox queries.
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"))
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_area.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    due_on: Mapped[date | None]  # its tasks' due date (a cycle's deadline)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Optimistic lock: every save bumps it, a save over a stale read fails.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_process_instance_subject", "subject_type", "subject_id"),
        # A cycle's instances by area and process, for its progress page.
        Index("ix_process_instance_progress", "cycle_id", "focus_area_id", "process_id", "status"),
        # "Are any of this area's reports still running?" read from the running ones alone: the
        # query's LIMIT 1 made PostgreSQL scan every instance ever started when none was.
        Index(
            "ix_process_instance_running",
            "cycle_id",
            "focus_area_id",
            "process_id",
            "id",
            postgresql_where=RUNNING_ONLY,
            sqlite_where=RUNNING_ONLY,
        ),
    )


NEVER_DUE = date(9999, 12, 31)  # an undated task's place in the inbox: after every dated one


class OpenTask(Base):
    """A READY human task of an instance: who may take it and when it is due."""

    __tablename__ = "open_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[str] = mapped_column(String(64))
    # The BPMN user-task id, e.g. report_status: it names the form and, in the catalogs, the title.
    name: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str] = mapped_column(String(32))  # the role that works in the task's lane
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"))
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_area.id"))
    # Indexed: the plan page asks, activity by activity, whether any of its tasks is overdue.
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Whether assignee_id was claimed from a group task (and so may be unclaimed).
    claimed: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[date | None]
    # The inbox's order: soonest due first, undated last. Derived by the database from due_on, so
    # no writer can forget it, and never null, so one index serves the order (see INBOX_ORDER).
    due_key: Mapped[date] = mapped_column(
        Computed(f"coalesce(due_on, '{NEVER_DUE.isoformat()}')", persisted=True)
    )
    # Fields saved before completion (a steering meeting's minutes, filled in by any member).
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    assignee: Mapped[User | None] = relationship()

    __table_args__ = (
        # One ordered walk per branch of the authority's condition (services.tasks): a lane, or a
        # lead's lane in one focus area, read in the inbox's order and stopped after a page.
        Index("ix_open_task_inbox", "lane", "due_key", "created_at", "id"),
        Index("ix_open_task_inbox_scoped", "lane", "focus_area_id", "due_key", "created_at", "id"),
        # Reminders and overdue escalations read the tasks due in a window of days, and only those.
        Index("ix_open_task_due_on", "due_on"),
    )


class CompletedTask(Base):
    """A human task once done: which, by whom (for whom, when a substitute acted), when. Written
    in the transaction that completes it (services.chain.steps.complete), so that whoever opens or
    submits the task again is told who did it, whatever kind of task it was."""

    __tablename__ = "completed_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))  # the user task's id: its form and its title
    completed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    completed_at: Mapped[datetime]


class PendingTimer(Base):
    """An armed BPMN timer and when it is due."""

    __tablename__ = "pending_timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(index=True)
