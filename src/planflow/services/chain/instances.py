"""Process instances in the database: start one, load it under lock, save its state together
with the projections (open tasks, pending timers) that inboxes and the scheduler read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ... import clock, resources
from ...engine import ProcessDefinition, ProcessRun, SpecLibrary
from ...engine.runner import SERIALIZER_VERSION
from ...models import (
    Activity,
    ActivityProposal,
    AnnualReport,
    FocusArea,
    InstanceState,
    OpenTask,
    PendingTimer,
    Plan,
    ProcessInstance,
    ProcessSpec,
    ReportingCycle,
    User,
)
from ..authority import access
from ..errors import NotFound
from ..records.audit import Actor
from . import arrivals


@cache
def library() -> SpecLibrary:
    """The processes of workflows/, parsed and checked once per process."""
    return SpecLibrary(resources.folder("workflows"))


@dataclass(frozen=True)
class Subject:
    """What an instance is about; its tasks inherit the scope."""

    cycle_id: int | None = None
    focus_area_id: int | None = None
    activity_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    due_on: date | None = None


def _stored_spec(session: Session, definition: ProcessDefinition) -> None:
    if session.get(ProcessSpec, definition.hash) is None:
        session.add(
            ProcessSpec(
                hash=definition.hash,
                process_id=definition.process_id,
                filename=definition.filename,
                source=definition.source,
                stored_at=clock.now(),
            )
        )
        session.flush()


def store_specs(session: Session) -> None:
    """Store every current process definition (`planflow init` does, at every upgrade). A spec
    stored the first time an instance needs it makes two first instances at once wait for each
    other's insert of the same key."""
    for definition in library().processes:
        _stored_spec(session, definition)


def start(
    session: Session, process_id: str, subject: Subject, data: dict[str, Any]
) -> tuple[ProcessInstance, ProcessRun, list[str]]:
    """Start an instance of the current version of a process; the caller saves it."""
    definition = library().current(process_id)
    _stored_spec(session, definition)
    run, passed = ProcessRun.start(definition, data)
    instance = ProcessInstance(
        process_id=process_id,
        spec_hash=definition.hash,
        serializer_version=SERIALIZER_VERSION,
        state="",
        cycle_id=subject.cycle_id,
        focus_area_id=subject.focus_area_id,
        activity_id=subject.activity_id,
        subject_type=subject.subject_type,
        subject_id=subject.subject_id,
        due_on=subject.due_on,
        started_at=clock.now(),
    )
    session.add(instance)
    session.flush()
    return instance, run, passed


def lock(session: Session, instance_id: int) -> ProcessInstance:
    """Load an instance row for change: a row lock on PostgreSQL, the version check everywhere."""
    instance = session.get(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)
    if instance is None:
        raise NotFound("error.instance.not_found", instance=instance_id)
    return instance


def load(session: Session, instance: ProcessInstance) -> ProcessRun:
    def stored_source(spec_hash: str) -> tuple[str, str]:
        spec = session.get(ProcessSpec, spec_hash)
        if spec is None:
            raise NotFound("error.instance.spec_missing", instance=instance.id, spec=spec_hash[:12])
        return spec.source, spec.filename

    return ProcessRun.load(library().by_hash(instance.spec_hash, stored_source), instance.state, instance.id)


def save(
    session: Session,
    instance: ProcessInstance,
    run: ProcessRun,
    returned: arrivals.Return | None = None,
    announce: bool = True,
) -> None:
    """Write the instance's state and bring its open tasks and pending timers in line with it.

    The projections were written from the state the run was loaded from, so what to change is
    the difference between the run's tasks and timers then and now: no query needed to find it.
    The new tasks are announced to whoever may act on them when the transaction commits
    (arrivals.py), as work sent back when `returned` says so; `announce` False leaves them
    unannounced (a cycle's opening tells each owner once instead).
    """
    instance.state = run.dump()
    if run.completed and instance.status is InstanceState.RUNNING:
        instance.status = InstanceState.COMPLETED
        instance.completed_at = clock.now()

    before_tasks, after_tasks = run.loaded_tasks, {task.id: task for task in run.human_tasks()}
    if gone := before_tasks - after_tasks.keys():
        session.execute(delete(OpenTask).where(OpenTask.id.in_(gone)))
    made = after_tasks.keys() - before_tasks
    for task in (after_tasks[task_id] for task_id in made):
        session.add(
            OpenTask(
                id=task.id,
                instance_id=instance.id,
                process_id=instance.process_id,
                name=task.name,
                lane=task.lane,
                cycle_id=instance.cycle_id,
                focus_area_id=instance.focus_area_id,
                activity_id=instance.activity_id,
                due_on=instance.due_on,
                created_at=clock.now(),
            )
        )

    before_timers, after_timers = run.loaded_timers, {timer.task_id: timer for timer in run.timers()}
    if gone := before_timers - after_timers.keys():
        session.execute(delete(PendingTimer).where(PendingTimer.task_id.in_(gone)))
    for timer in (after_timers[task_id] for task_id in after_timers.keys() - before_timers):
        session.add(
            PendingTimer(instance_id=instance.id, task_id=timer.task_id, name=timer.name, due_at=timer.due_at)
        )
    session.flush()
    run.mark_saved()
    if made and announce:
        arrivals.expect(session, sorted(made), returned)


@dataclass(frozen=True)
class ProcessSubject:
    """What an instance is about, as its page names it: an activity (its report, a deviation of
    it), a focus area in a cycle, a cycle, a proposal or an annual report, in the plan `plan`."""

    kind: str  # activity | deviation | area_review | cycle | proposal | annual_report | none
    plan: str | None = None  # the plan's slug
    activity_code: str | None = None
    activity_title: str | None = None
    focus_area: int | None = None
    focus_area_title: str | None = None
    period: str | None = None
    title: str | None = None  # a proposal's (None until the lead has written one)
    year: int | None = None  # an annual report's


@dataclass(frozen=True)
class ProcessProgress:
    """One process instance as its page draws it: what it is about, the diagram it runs on, the
    elements passed and the ones waiting now."""

    instance_id: int
    process_id: str
    status: str
    diagram: str  # the BPMN source of the version the instance runs on
    done: dict[str, int]  # element -> how many times it completed
    current: set[str]
    subject: ProcessSubject = ProcessSubject("none")


def progress(session: Session, user: User, instance_id: int) -> ProcessProgress:
    """Where an instance stands, for a municipal reader (the process's internals are not the
    outside's to read)."""
    access.require(session, Actor(user), access.UseCase.READ_INTERNAL)
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("error.instance.not_found", instance=instance_id)
    spec = session.get(ProcessSpec, instance.spec_hash)
    if spec is None:
        raise NotFound("error.instance.spec_missing", instance=instance_id, spec=instance.spec_hash[:12])
    done, current = load(session, instance).progress()
    return ProcessProgress(
        instance.id,
        instance.process_id,
        instance.status.value,
        spec.source,
        done,
        current,
        subject_of(session, instance),
    )


def subject_of(session: Session, instance: ProcessInstance) -> ProcessSubject:
    """What `instance` is about, read from the scope it was started with (Subject)."""
    cycle = session.get(ReportingCycle, instance.cycle_id) if instance.cycle_id else None
    period = cycle.period if cycle else None
    kind = instance.subject_type or "none"
    if instance.activity_id is not None:
        activity = session.get(Activity, instance.activity_id)
        if activity is not None:
            return ProcessSubject(
                "deviation" if kind == "deviation" else "activity",
                activity.plan.slug,
                activity_code=activity.code,
                activity_title=activity.title,
                period=period,
            )
    if kind == "area_review" and instance.focus_area_id is not None:
        area = session.get(FocusArea, instance.focus_area_id)
        if area is not None:
            return ProcessSubject(
                kind, area.plan.slug, focus_area=area.number, focus_area_title=area.title, period=period
            )
    if kind == "cycle" and cycle is not None:
        plan = session.get(Plan, cycle.plan_id)
        return ProcessSubject(kind, plan.slug if plan else None, period=period)
    if kind == "proposal" and instance.subject_id is not None:
        proposal = session.get(ActivityProposal, instance.subject_id)
        if proposal is not None:
            area = session.get(FocusArea, proposal.focus_area_id)
            return ProcessSubject(
                kind,
                area.plan.slug if area else None,
                focus_area=area.number if area else None,
                focus_area_title=area.title if area else None,
                title=proposal.title,
            )
    if kind == "annual_report" and instance.subject_id is not None:
        report = session.get(AnnualReport, instance.subject_id)
        if report is not None:
            plan = session.get(Plan, report.plan_id)
            return ProcessSubject(kind, plan.slug if plan else None, year=report.year)
    return ProcessSubject("none")
