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
from ...models import InstanceState, OpenTask, PendingTimer, ProcessInstance, ProcessSpec, User
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
    if run.completed and instance.status is not InstanceState.COMPLETED:
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
class ProcessProgress:
    """One process instance as its page draws it: the diagram it runs on, the elements passed and
    the ones waiting now."""

    instance_id: int
    process_id: str
    status: str
    diagram: str  # the BPMN source of the version the instance runs on
    done: dict[str, int]  # element -> how many times it completed
    current: set[str]


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
        instance.id, instance.process_id, instance.status.value, spec.source, done, current
    )
