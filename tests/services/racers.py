"""What racing processes do in the race tests: each is a separate Python process (spawned, so it
shares nothing with the test but the database), waiting at a barrier so they strike together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from planflow import clock
from planflow.db import Database
from planflow.services import people, tasks, timers
from planflow.services.errors import Conflict


def complete(url: str, now: datetime, barrier: Any, task_id: str, username: str, data: dict[str, Any]) -> str:
    clock.set_now(now)
    database = Database(url)
    try:
        barrier.wait(60)
        with database.transaction() as session:
            tasks.complete_task(session, people.get_user(session, username), task_id, data)
        return "done"
    except Conflict:
        return "conflict"
    finally:
        database.dispose()


def fire_timers(url: str, now: datetime, barrier: Any) -> int:
    clock.set_now(now)
    database = Database(url)
    try:
        barrier.wait(60)
        with database.transaction() as session:
            return timers.fire_due_timers(session, now)
    finally:
        database.dispose()
