"""A small driver for the reporting chain in tests: act as a user on a task from its inbox."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from planflow.db import Database
from planflow.services.authority import people
from planflow.services.chain import cycles, tasks
from planflow.services.chain.tasks import TaskView
from planflow.services.plan import plans
from planflow.services.records.audit import Actor

# When the chain's tests start: a Monday in the fourth quarter, before the cycle's deadline.
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


class Chain:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start_cycle(self, period: str = "2026-Q4", deadline: date = date(2026, 12, 15)) -> None:
        with self.db.transaction() as session:
            cycle = cycles.start_cycle(
                session, Actor(people.get_user(session, "processledare")), period, deadline
            )
        cycles.open_all(self.db.transaction, cycle.id)

    def inbox_of_all(self) -> list[TaskView]:
        """Every open task, whoever may act on it (through the owners' and leads' inboxes)."""
        with self.db.transaction() as session:
            from sqlalchemy import select

            from planflow.models import User

            names = session.scalars(select(User.username).order_by(User.id)).all()
        seen: dict[str, TaskView] = {}
        for name in names:
            for task in self.inbox(name):
                seen.setdefault(task.id, task)
        return list(seen.values())

    def inbox(self, username: str) -> list[TaskView]:
        with self.db.transaction() as session:
            return tasks.inbox(session, people.get_user(session, username))

    def task(self, username: str, name: str, activity: str | None = None) -> TaskView:
        matches = [
            t
            for t in self.inbox(username)
            if t.name == name and (activity is None or t.activity_code == activity)
        ]
        assert matches, f"{username} has no {name} task{f' for {activity}' if activity else ''}"
        return matches[0]

    def do(self, username: str, name: str, data: dict[str, Any], activity: str | None = None) -> str:
        """Complete the user's first `name` task (about `activity`); returns the task id."""
        task = self.task(username, name, activity)
        self.complete(username, task.id, data)
        return task.id

    def complete(self, username: str, task_id: str, data: Any) -> None:
        with self.db.transaction() as session:
            tasks.complete_task(session, people.get_user(session, username), task_id, data)

    def report_and_accept(self, code: str, status: str = "green", cause: str | None = None) -> None:
        """The owner reports an activity and its area's lead accepts the report."""
        owner, lead = self.owner_of(code), f"lead{code.split('.')[0]}"
        data = {"status": status, "comment": f"{code} rapporterad"}
        if cause:
            data["cause"] = cause
        self.do(owner, "report_status", data, code)
        self.do(lead, "review_report", {"outcome": "accept"}, code)

    def owner_of(self, code: str) -> str:
        with self.db.transaction() as session:
            from sqlalchemy import select

            from planflow.models import Activity, User

            return session.scalars(
                select(User.username)
                .join(Activity, Activity.owner_id == User.id)
                .where(Activity.code == code)
            ).one()


def small_plan(folder: Path, slug: str = "liten") -> dict[str, object]:
    """A plan of one focus area with no activities: its cycle goes straight to reconciliation."""
    path = folder / f"{slug}.json"
    path.write_text(
        json.dumps(
            {
                "slug": slug,
                "title": "Liten plan",
                "organisation": "Prov",
                "adopted_on": "2026-01-01",
                "strategy_period": {"start": 2026, "end": 2027},
                "source": "tests",
                "focus_areas": [{"number": 1, "title": "Dialog", "intervention_areas": []}],
            }
        ),
        encoding="utf-8",
    )
    return plans.read_plan_document(path)
