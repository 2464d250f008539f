"""BPMN timers: fire the ones that are due by planflow's clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...models import PendingTimer
from ..records.audit import SYSTEM_ACTOR
from . import instances, steps

log = logging.getLogger(__name__)
# A unit of work: `with transaction() as session:` commits or rolls back (Database.transaction).
Transaction = Callable[[], AbstractContextManager[Session]]


# Instances whose timers one call fires at most; the rest wait for the next call (a minute later).
FIRE_BATCH = 1000


def fire_due_timers(transaction: Transaction, now: datetime, limit: int = FIRE_BATCH) -> int:
    """Fire the timers due at `now`; returns how many fired. One short transaction reads what is
    due, then each instance moves in a transaction of its own: one that fails is logged and
    skipped, the others go on. Safe to run twice and from two processes at once: an instance is
    locked, and a timer is fired only if still pending."""
    with transaction() as session:
        due = session.scalars(
            select(PendingTimer.instance_id)
            .where(PendingTimer.due_at <= now)
            .group_by(PendingTimer.instance_id)
            .order_by(func.min(PendingTimer.due_at), PendingTimer.instance_id)
            .limit(limit)
        ).all()
    fired = 0
    with clock.frozen_at(now):  # the engine's timers read the clock: let them read `now`
        for instance_id in due:
            fired += _fire(transaction, instance_id, now)
    return fired


def _fire(transaction: Transaction, instance_id: int, now: datetime) -> int:
    try:
        with transaction() as session:
            instance = instances.lock(session, instance_id)
            still_due = session.scalars(
                select(PendingTimer.task_id).where(
                    PendingTimer.instance_id == instance_id, PendingTimer.due_at <= now
                )
            ).all()
            if not still_due:  # another process fired them meanwhile
                return 0
            run = instances.load(session, instance)
            names = run.fire_due_timers()
            steps.passed(session, steps.Step(SYSTEM_ACTOR, instance, run), names)
            instances.save(session, instance, run)
            armed = {timer.task_id for timer in run.timers()}
            return sum(1 for task_id in still_due if task_id not in armed)
    except Exception:  # one broken instance must not stop the others' timers
        log.exception("timers of process instance %s could not fire", instance_id)
        return 0
