"""The audit chain on its own: the head row is part of what verification checks."""

from __future__ import annotations

from sqlalchemy import delete

from planflow.db import Database
from planflow.models import AuditHead
from planflow.services import audit
from planflow.services.audit import SYSTEM_ACTOR


def test_deleted_head_row_is_reported(db: Database) -> None:
    with db.transaction() as session:
        for _ in range(2):
            audit.record(session, SYSTEM_ACTOR, "test.event", "test", 1)
    with db.transaction() as session:
        session.execute(delete(AuditHead))
    with db.reading() as session:
        result = audit.verify(session)
    assert (result.intact, result.first_bad) == (False, 3)
    assert result.problem == "the chain's head row is missing: events after 2 may be cut off"


def test_walk_from_an_anchor_checks_only_the_later_events(db: Database) -> None:
    with db.transaction() as session:
        events = [audit.record(session, SYSTEM_ACTOR, "test.event", "test", n) for n in range(3)]
    with db.reading() as session:
        assert audit.verify(session, 2, events[1].hash).intact
        assert audit.verify(session, 2, "f" * 64).first_bad == 3
