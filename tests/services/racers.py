"""What racing processes do in the race tests: each is a separate Python process (spawned, so it
shares nothing with the test but the database), waiting at a barrier so they strike together."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from planflow import clock
from planflow.db import Database
from planflow.services.authority import people
from planflow.services.chain import cycles, tasks, timers
from planflow.services.errors import Conflict, ServiceError
from planflow.services.records.audit import Actor


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
    except ServiceError as exc:  # a refusal other than "someone else did it first"
        return exc.code
    finally:
        database.dispose()


def fire_timers(url: str, now: datetime, barrier: Any) -> int:
    clock.set_now(now)
    database = Database(url)
    try:
        barrier.wait(60)
        return timers.fire_due_timers(database.transaction, now)
    finally:
        database.dispose()


def start_cycle(url: str, now: datetime, barrier: Any, period: str) -> str:
    """Start (and open) a cycle as the process leader; "conflict" when another process won."""
    clock.set_now(now)
    database = Database(url)
    try:
        barrier.wait(60)
        with database.transaction() as session:
            leader = Actor(people.get_user(session, "processledare"))
            cycle_id = cycles.start_cycle(session, leader, period, now.date() + timedelta(days=30)).id
        cycles.open_all(database.transaction, cycle_id)
        return "started"
    except Conflict:
        return "conflict"
    finally:
        database.dispose()


def open_cycle(url: str, now: datetime, barrier: Any, cycle_id: int) -> int:
    clock.set_now(now)
    database = Database(url)
    try:
        barrier.wait(60)
        return cycles.open_all(database.transaction, cycle_id)
    finally:
        database.dispose()


def complete_holding(
    url: str, now: datetime, events: Any, task_id: str, username: str, data: dict[str, Any]
) -> str:
    """Complete a task and hold the transaction open, uncommitted, until told to commit: what a
    slow request looks like to the others."""
    clock.set_now(now)
    database = Database(url)
    try:
        with database.transaction() as session:
            tasks.complete_task(session, people.get_user(session, username), task_id, data)
            events["holding"].set()
            if not events["commit"].wait(60):
                raise TimeoutError("never told to commit")
        return "done"
    finally:
        database.dispose()


def complete_meanwhile(
    url: str, now: datetime, events: Any, task_id: str, username: str, data: dict[str, Any]
) -> str:
    """Once the other process holds its transaction open, complete a task, waiting at most 3 s
    for any lock: "done", or the database's reason for giving up (a lock wait, a deadlock)."""
    clock.set_now(now)
    database = Database(url)
    try:
        if not events["holding"].wait(60):
            raise TimeoutError("the other process never held its transaction")
        with database.transaction() as session:
            session.execute(text("SET LOCAL lock_timeout = '3s'"))
            tasks.complete_task(session, people.get_user(session, username), task_id, data)
        return "done"
    except DBAPIError as exc:
        return type(exc.orig).__name__
    finally:
        events["commit"].set()
        database.dispose()
