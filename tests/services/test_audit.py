"""The audit chain on its own: the head row is part of what verification checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, text, update

from planflow.db import Database
from planflow.models import AuditEvent, AuditHead
from planflow.models.base import canonical_json
from planflow.services.records import audit
from planflow.services.records.audit import SYSTEM_ACTOR


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


def test_events_of_a_rolled_back_savepoint_never_join_the_chain(db: Database) -> None:
    with db.transaction() as session:
        audit.record(session, SYSTEM_ACTOR, "test.kept", "test", 1)
        try:
            with session.begin_nested():
                audit.record(session, SYSTEM_ACTOR, "test.taken_back", "test", 2)
                raise LookupError("the savepoint fails")
        except LookupError:
            pass
        with session.begin_nested():
            audit.record(session, SYSTEM_ACTOR, "test.kept", "test", 3)
    with db.transaction() as session:
        audit.record(session, SYSTEM_ACTOR, "test.dropped", "test", 4)
        session.rollback()
    with db.reading() as session:
        kept = audit.events(session)
        assert [(e.seq, e.action, e.subject_id) for e in kept] == [
            (2, "test.kept", "3"),
            (1, "test.kept", "1"),
        ]
        assert audit.verify(session).intact


def test_an_open_transaction_does_not_hold_the_chain(db: Database) -> None:
    """A transaction that has recorded an event but not committed keeps no lock on the chain's
    head: another commits its own event meanwhile (on PostgreSQL; SQLite has one writer anyway)."""
    if db.url.get_backend_name() == "sqlite":
        pytest.skip("SQLite lets one transaction write at a time: nothing to overtake")
    with db.transaction() as slow:
        audit.record(slow, SYSTEM_ACTOR, "test.slow", "test", 1)
        slow.flush()
        with db.transaction() as quick:  # would wait forever on the head row if `slow` held it
            quick.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(quick, SYSTEM_ACTOR, "test.quick", "test", 2)
    with db.reading() as session:
        events = audit.events(session)
        assert [(e.seq, e.action) for e in events] == [(2, "test.slow"), (1, "test.quick")]
        assert events[0].occurred_at >= events[1].occurred_at
        assert audit.verify(session).intact


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    fields=st.fixed_dictionaries(
        {
            "seq": st.integers(1, 10**12),
            "occurred_at": st.text(),
            "actor": st.text(),
            "on_behalf_of": st.none() | st.text(),
            "role": st.none() | st.text(),
            "action": st.text(),
            "subject_type": st.text(),
            "subject_id": st.text(),
            "data": st.dictionaries(st.text(), _json_values, max_size=4),
            "reason": st.none() | st.text(),
            "prev_hash": st.text(),
        }
    )
)
def test_the_hand_written_canonical_form_is_exactly_canonical_json(fields: dict[str, object]) -> None:
    assert audit.canonical(fields) == canonical_json(fields)


def test_events_stored_before_json_was_canonical_still_verify_and_edits_do_not(db: Database) -> None:
    with db.transaction() as session:
        for n in range(3):
            audit.record(session, SYSTEM_ACTOR, "test.event", "test", n, {"zeta": "å", "alpha": [n, None]})
    # As an older planflow stored them: keys in insertion order, spaces, non-ASCII escaped.
    stored = "CAST(:data AS json)" if db.url.get_backend_name() == "postgresql" else ":data"
    with db.transaction() as session:
        session.execute(
            text(f"UPDATE audit_event SET data = {stored} WHERE seq = 2"),
            {"data": '{"zeta": "\\u00e5", "alpha": [1, null]}'},
        )
    with db.reading() as session:
        assert audit.verify(session).intact
    with db.transaction() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(data={"zeta": "ä", "alpha": [1, None]})
        )
    with db.reading() as session:
        result = audit.verify(session)
        assert (result.first_bad, result.problem) == (2, "event 2 was changed after it was written")


def test_a_savepoint_released_midway_leaves_the_chain_to_the_commit(db: Database) -> None:
    with db.transaction() as session:
        audit.record(session, SYSTEM_ACTOR, "test.before", "test", 1)
        with session.begin_nested():
            audit.record(session, SYSTEM_ACTOR, "test.inside", "test", 2)
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq == 0  # nothing chained at the savepoint's release
    with db.reading() as session:
        assert [e.action for e in audit.events(session)] == ["test.inside", "test.before"]
