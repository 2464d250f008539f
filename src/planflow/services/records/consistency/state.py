"""The rules about stored state: the audit chain verifies, and every process instance's open tasks
and pending timers are what its stored state says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....engine import StateError
from ....models import AuditEvent, InstanceState, OpenTask, PendingTimer, ProcessInstance
from ...chain import instances
from .. import audit
from .reading import LOAD_BATCH, Memo, Problem, batches, grouped

# What an instance's state projects: the ids of its ready user tasks and of its armed timers.
Projection = tuple[frozenset[str], frozenset[str]]


def chain(session: Session, memo: Memo | None) -> list[Problem]:
    after, after_hash = memo.chain if memo is not None else (0, audit.GENESIS)
    result = audit.verify(session, after, after_hash)
    if not result.intact:
        return [Problem("audit.chain", f"event {result.first_bad}", result.problem or "")]
    if memo is not None:
        last = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        if last is not None:
            memo.chain = (last.seq, last.hash)
    return []


def projections(session: Session, memo: Memo | None) -> Iterator[Problem]:
    """Open tasks and pending timers, instance by instance, against the state they project: a
    running instance's ready user tasks and armed timers; nothing for a completed one."""
    query = select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.status)
    for batch in batches(session, query, ProcessInstance.id):
        ids = [row.id for row in batch]
        have_tasks = grouped(session, select(OpenTask.instance_id, OpenTask.id), OpenTask.instance_id, ids)
        have_timers = grouped(
            session, select(PendingTimer.instance_id, PendingTimer.task_id), PendingTimer.instance_id, ids
        )
        expected, stale = _known(batch, memo)
        yield from _load(session, stale, expected, memo)
        for instance_id, (tasks, timers) in expected.items():
            for rule, have, want in (
                ("projection.open_tasks", have_tasks.get(instance_id, frozenset()), tasks),
                ("projection.pending_timers", have_timers.get(instance_id, frozenset()), timers),
            ):
                if have != want:
                    yield Problem(
                        rule,
                        f"instance {instance_id}",
                        f"rows {sorted(have - want)} are not in its state; {sorted(want - have)} have no row",
                    )


def _known(batch: list[Any], memo: Memo | None) -> tuple[dict[int, Projection], list[int]]:
    """What each instance of `batch` projects where that is known without reading its state (it
    has completed, or the memo has its version), and the ids of the rest."""
    expected: dict[int, Projection] = {}
    stale = []
    for row in batch:
        known = memo.runs.get(row.id) if memo is not None else None
        if row.status is not InstanceState.RUNNING:  # completed or cancelled: nothing open
            expected[row.id] = (frozenset(), frozenset())
        elif known is not None and known[0] == row.version:
            expected[row.id] = known[1:]
        else:
            stale.append(row.id)
    return expected, stale


def _load(
    session: Session, stale: list[int], expected: dict[int, Projection], memo: Memo | None
) -> Iterator[Problem]:
    """Deserialize the `stale` instances LOAD_BATCH at a time, adding what each projects to
    `expected` (and to the memo); a state that cannot be read, or has ended while its instance is
    marked running, is a problem."""
    for start in range(0, len(stale), LOAD_BATCH):
        loaded = session.scalars(
            select(ProcessInstance).where(ProcessInstance.id.in_(stale[start : start + LOAD_BATCH]))
        ).all()
        for instance in loaded:
            try:
                run = instances.load(session, instance)
            except StateError as exc:
                yield Problem("instance.state", f"instance {instance.id}", str(exc))
                continue
            finally:
                session.expunge(instance)  # its state is read: do not keep it for the session's life
            if run.completed:
                yield Problem(
                    "instance.status",
                    f"instance {instance.id}",
                    "its state has ended; it is marked running",
                )
            tasks = frozenset(task.id for task in run.human_tasks())
            timers = frozenset(timer.task_id for timer in run.timers())
            expected[instance.id] = (tasks, timers)
            if memo is not None:
                memo.runs[instance.id] = (instance.version, tasks, timers)
