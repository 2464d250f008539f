"""BPMN timers: fire the ones that are due by planflow's clock."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..models import PendingTimer
from . import instances, steps
from .audit import SYSTEM_ACTOR

log = logging.getLogger(__name__)


def fire_due_timers(session: Session, now: datetime) -> int:
    """Fire every timer due at `now`; returns how many fired. Each instance moves inside its own
    savepoint: one that fails is logged and skipped, the others go on. Safe to run twice and from
    two processes at once: an instance is locked, and a timer is fired only if still pending."""
    due = session.execute(
        select(PendingTimer.instance_id, PendingTimer.task_id)
        .where(PendingTimer.due_at <= now)
        .order_by(PendingTimer.due_at, PendingTimer.id)
    ).all()
    fired = 0
    with clock.frozen_at(now):  # the engine's timers read the clock: let them read `now`
        for instance_id in dict.fromkeys(instance_id for instance_id, _ in due):
            fired += _fire(session, instance_id, now)
    return fired


def _fire(session: Session, instance_id: int, now: datetime) -> int:
    try:
        with session.begin_nested():
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
