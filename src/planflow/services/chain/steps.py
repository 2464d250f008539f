"""What happens in the domain when a process moves: a registry of handlers by BPMN element id.

`@on_complete("report_status")` runs when that user task is completed, with its validated form
data; `@on_passed("deviation_escalated")` runs when the engine passes that element (timers,
throw events). Handlers write the domain records and the audit event in the caller's
transaction. Importing planflow.services registers them all, whichever entry point comes first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ... import clock
from ...engine import ExpressionError, ProcessRun, StateError, StuckError
from ...models import CompletedTask, DecidingBody, Decision, OpenTask, ProcessInstance, User
from ..errors import Conflict, quote
from ..records import audit
from ..records.audit import Actor
from . import arrivals, counsel, instances

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """A move of one instance: who moved it and, for a completed task, which task."""

    actor: Actor
    instance: ProcessInstance
    run: ProcessRun
    task_id: str | None = None
    # The completed task's checked form data (empty when a timer or a signal moved the instance).
    data: dict[str, Any] = field(default_factory=dict)
    # Said by a handler whose element sends the work back (send_back): the tasks the step makes
    # are announced as returned, by whom and why (arrivals.py).
    returned: list[arrivals.Return] = field(default_factory=list)

    @property
    def by(self) -> User:
        """The person whose act a completed task is (the absent one when a substitute acts)."""
        person = self.actor.principal
        assert person is not None, "user tasks are completed by people"
        return person

    def send_back(self, reason: str | None) -> None:
        """Say that the tasks this step makes are the work sent back, for `reason`: their notices
        say so, naming who sent it back."""
        assert self.actor.user is not None, "work is sent back by people"
        self.returned.append(arrivals.Return(self.actor.user.display_name, reason))

    def subject(self, session: Session, model: type[T]) -> T:
        """The record the instance is about (a deviation, a proposal, an annual report…)."""
        record = session.get(model, self.instance.subject_id)
        assert record is not None, f"instance {self.instance.id} has no {model.__name__}"
        return record

    def decide(
        self,
        session: Session,
        body: DecidingBody,
        subject_type: str,
        subject_id: int,
        decision: str,
        rationale: str,
    ) -> Decision:
        """Record the decision of `body` that completing this step's task records: who recorded
        it, for whom; one per task, whatever races. The steering group's members' words on the
        subject written so far are kept with it (counsel.keep_with)."""
        assert self.actor.user is not None, "decisions are recorded by people"
        record = Decision(
            body=body,
            subject_type=subject_type,
            subject_id=subject_id,
            decision=decision,
            rationale=rationale,
            decided_by_id=self.actor.user.id,
            on_behalf_of_id=self.actor.on_behalf_of.id if self.actor.on_behalf_of else None,
            decided_at=clock.now(),
            task_id=self.task_id,
        )
        session.add(record)
        if body is DecidingBody.STEERING_GROUP:
            session.flush()  # the record's id, for the words kept with it
            counsel.keep_with(session, record)
        return record


CompleteHandler = Callable[[Session, Step, dict[str, Any]], None]
PassedHandler = Callable[[Session, Step], None]
ON_COMPLETE: dict[str, CompleteHandler] = {}
ON_PASSED: dict[str, PassedHandler] = {}


def on_complete(name: str) -> Callable[[CompleteHandler], CompleteHandler]:
    def register(handler: CompleteHandler) -> CompleteHandler:
        ON_COMPLETE[name] = handler
        return handler

    return register


def on_passed(name: str) -> Callable[[PassedHandler], PassedHandler]:
    def register(handler: PassedHandler) -> PassedHandler:
        ON_PASSED[name] = handler
        return handler

    return register


def passed(session: Session, step: Step, names: list[str]) -> None:
    for name in names:
        handler = ON_PASSED.get(name)
        if handler is not None:
            handler(session, step)


def start_process(
    session: Session,
    actor: Actor,
    process_id: str,
    subject: instances.Subject,
    data: dict[str, Any],
    announce: bool = True,
) -> ProcessInstance:
    """Start an instance, let the domain react to what it passed, and save it (its first tasks
    announced to whoever may act on them, unless `announce` is False)."""
    instance, run, names = instances.start(session, process_id, subject, data)
    passed(session, Step(actor, instance, run), names)
    instances.save(session, instance, run, announce=announce)
    return instance


def complete(
    session: Session, actor: Actor, task: OpenTask, clean: dict[str, Any], fields: list[str]
) -> None:
    """Complete an open task with checked data as `actor`: run the engine, record who completed
    it and when (CompletedTask, whatever the kind of task), let the domain react, save. The caller
    has checked who acts and validated `clean` against the form."""
    instance = instances.lock(session, task.instance_id)
    run = instances.load(session, instance)
    try:
        names = run.complete(task.id, clean, replaces=fields)
    except StuckError:  # the step would leave the instance with nothing to do next
        raise Conflict("error.process.stuck", task={"key": f"task.{task.name}"}) from None
    except StateError:
        raise Conflict("error.task.not_open", task={"key": f"task.{task.name}"}) from None
    except ExpressionError as exc:  # e.g. a timer the answers would arm out of range
        raise Conflict(
            "error.process.refused", task={"key": f"task.{task.name}"}, reason=quote(exc)
        ) from None
    step = Step(actor, instance, run, task.id, clean)
    assert actor.user is not None, "user tasks are completed by people"
    session.add(
        CompletedTask(
            id=task.id,
            instance_id=instance.id,
            name=task.name,
            completed_by_id=actor.user.id,
            on_behalf_of_id=actor.on_behalf_of.id if actor.on_behalf_of else None,
            completed_at=clock.now(),
        )
    )
    handler = ON_COMPLETE.get(task.name)
    if handler is not None:
        handler(session, step, clean)
    else:
        audit.record(session, actor, f"task.{task.name}", "task", task.id, clean)
    passed(session, step, names)
    instances.save(session, instance, run, returned=step.returned[-1] if step.returned else None)


def signal(session: Session, actor: Actor, instance: ProcessInstance, name: str) -> None:
    """Deliver a signal to a waiting instance and save it."""
    instance = instances.lock(session, instance.id)
    run = instances.load(session, instance)
    try:
        names = run.signal(name)
    except StuckError:
        raise Conflict("error.process.stuck", task={"key": f"bpmn.{instance.process_id}.{name}"}) from None
    passed(session, Step(actor, instance, run), names)
    instances.save(session, instance, run)
