"""The inbox's order and pages against the authority read the plain way: for every demo user, the
pages walked cursor by cursor are exactly the tasks `access.task_condition` admits, sorted soonest
due first (undated last), then oldest, then by id; a task two branches reach appears once; the
header's count is exact up to its cap and then stops counting."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from planflow import clock
from planflow.db import Database
from planflow.models import NEVER_DUE, Activity, FocusArea, OpenTask, ProcessInstance, User
from planflow.services.authority import access, people
from planflow.services.chain import tasks
from planflow.services.records.audit import OPERATOR_ACTOR

from .chain import Chain

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LANES = ["activity_owner", "focus_area_lead", "process_leader", "steering_group", "board"]


@pytest.fixture
def crowded(seeded: Database) -> Database:
    """The seed plan's cycle, then 400 more open tasks in every lane and area, some assigned, a
    third undated, with ties on due date and on creation time."""
    clock.set_now(NOW)
    Chain(seeded).start_cycle()
    rng = random.Random(7)
    with seeded.transaction() as session:
        instance = session.scalar(sa.select(ProcessInstance.id).limit(1))
        areas = session.scalars(sa.select(FocusArea.id)).all()
        activities = session.scalars(sa.select(Activity.id)).all()
        users = session.scalars(sa.select(User.id)).all()
        rows = []
        for n in range(400):
            lane = rng.choice(LANES)
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "instance_id": instance,
                    "process_id": "deviation",
                    "name": "draft_recommendation",
                    "lane": lane,
                    "focus_area_id": rng.choice(areas),
                    "activity_id": rng.choice(activities) if lane == "activity_owner" else None,
                    "assignee_id": rng.choice(users) if rng.random() < 0.2 else None,
                    "claimed": False,
                    "due_on": None if n % 3 == 0 else date(2026, 11, 1) + timedelta(days=rng.randint(0, 9)),
                    "created_at": NOW - timedelta(minutes=rng.randint(0, 5)),
                }
            )
        session.execute(sa.insert(OpenTask), rows)
        # lead1 stands in for lead2 and the chair, and leads area 2 too: branches from three people
        # to merge, two of them the same lane and area, so their unassigned tasks meet twice
        for absent in ("lead2", "ordforande"):
            people.add_substitute(session, OPERATOR_ACTOR, absent, "lead1", NOW.date(), None)
        lead1 = people.get_user(session, "lead1")
        people.grant_role(session, OPERATOR_ACTOR, lead1, people.RoleSpec.parse("focus_area_lead:2"))
    return seeded


def _expected(session: sa.orm.Session, user: User) -> list[str]:
    condition = access.task_condition(session, access.represented(session, user))
    admitted = session.scalars(sa.select(OpenTask).where(condition)).all()
    admitted.sort(key=lambda t: (t.due_on or NEVER_DUE, t.created_at, t.id))
    return [t.id for t in admitted]


def test_every_users_pages_are_what_the_authority_admits_in_order(crowded: Database) -> None:
    with crowded.reading() as session:
        usernames = session.scalars(sa.select(User.username).order_by(User.id)).all()
        several = 0
        for username in usernames:
            user = people.get_user(session, username)
            expected = _expected(session, user)
            seen: list[str] = []
            cursor = None
            while True:
                page = tasks.inbox_page(session, user, "sv", cursor=cursor, limit=7)
                seen += [t.id for t in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == expected, username
            assert tasks.inbox_count(session, user) == len(expected), username
            several += len(access.task_branches(session, access.represented(session, user))) > 4
        assert several, "no user has more than four branches: the merge is untested"


def test_filters_keep_the_order(crowded: Database) -> None:
    with crowded.reading() as session:
        user = people.get_user(session, "processledare")
        everything = tasks.inbox(session, user, limit=10**6)

        def ids(**only: Any) -> list[str]:
            return [t.id for t in tasks.inbox_page(session, user, limit=10**6, **only).items]

        late = [t.id for t in everything if t.due_on is not None and t.due_on < NOW.date()]
        assert late and len(late) < len(everything)
        assert ids(overdue=True) == late
        assert ids(overdue=False) == [t.id for t in everything if t.id not in late]
        assert ids(role="process_leader") == [t.id for t in everything if t.lane == "process_leader"]


def test_the_count_stops_at_its_cap(crowded: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "INBOX_COUNT_CAP", 10)
    with crowded.reading() as session:
        user = people.get_user(session, "processledare")
        assert len(_expected(session, user)) > 10
        assert tasks.inbox_count(session, user) == 10
