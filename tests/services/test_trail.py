"""The audit search (services.trail) and the trail's integrity (checkpoints.integrity): what each
filter finds, which plan an activity's events belong to, and what is said without the key."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from planflow import clock
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.models import Activity, AuditHead
from planflow.services.authority import people
from planflow.services.errors import Forbidden, InvalidInput
from planflow.services.plan import activity_edits, plans
from planflow.services.records import audit, checkpoints, trail
from planflow.services.records.audit import OPERATOR_ACTOR, SYSTEM_ACTOR, Actor
from planflow.services.records.checkpoints import Verdict
from planflow.services.records.trail import AuditQuery

from .chain import Chain

LATE = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 November in Stockholm


def _search(db: Database, username: str = "processledare", **filters: object) -> list[trail.EventView]:
    with db.reading() as session:
        return trail.search(
            session, people.get_user(session, username), AuditQuery(limit=200, **filters)
        ).items  # type: ignore[arg-type]


def _actions(events: list[trail.EventView]) -> list[str]:
    return [e.action for e in events]


def test_an_activitys_events_are_its_own_its_deviations_and_its_reports_tasks(chain: Chain) -> None:
    chain.report_and_accept("1.4.1", "red", cause="Ingen lokal.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Hyr."}, "1.4.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "return", "comment": "Dyrt."}, "1.4.1")
    chain.report_and_accept("1.1.1", "green")
    found = _actions(_search(chain.db, activity="1.4.1"))
    assert {"status.reported", "status.accepted", "deviation.opened"} <= set(found)
    assert {"deviation.recommended", "deviation.recommendation_returned"} <= set(
        found
    )  # no code in their data
    assert not {e.subject_id for e in _search(chain.db, activity="1.4.1") if e.subject_type == "activity"} - {
        "1.4.1"
    }
    assert "deviation.opened" not in _actions(_search(chain.db, activity="1.1.1"))
    assert _search(chain.db, activity="9.9.9") == []  # no such activity: nothing, not an error
    with chain.db.reading() as session:  # the activity's story tells the same events
        story = trail.activity_events(
            session, session.scalars(select(Activity).where(Activity.code == "1.4.1")).one(), 200
        )
    assert story == _search(chain.db, activity="1.4.1")


def test_an_actor_is_who_acted_or_on_whose_behalf(chain: Chain) -> None:
    with chain.db.transaction() as session:
        admin = Actor(people.get_user(session, "admin"))
        people.add_substitute(session, admin, "lead1", "lead3", date(2026, 11, 1), None)
    chain.do(chain.owner_of("1.1.1"), "report_status", {"status": "green"}, "1.1.1")
    chain.do("lead3", "review_report", {"outcome": "accept"}, "1.1.1")
    (accepted,) = [e for e in _search(chain.db, actor="lead1") if e.action == "status.accepted"]
    assert (accepted.actor, accepted.on_behalf_of) == ("lead3", "lead1")
    assert accepted in _search(chain.db, actor="lead3")


def test_an_action_is_one_or_a_family_ending_in_a_dot(chain: Chain) -> None:
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")
    assert set(_actions(_search(chain.db, action="deviation.opened"))) == {"deviation.opened"}
    assert set(_actions(_search(chain.db, action="status."))) == {"status.reported", "status.accepted"}
    assert _search(chain.db, action="status") == [] and _search(chain.db, action="status._") == []


def test_days_are_the_installations_not_utcs(chain: Chain) -> None:
    clock.set_now(LATE)
    chain.report_and_accept("1.1.1", "green")
    late = [e.seq for e in _search(chain.db, activity="1.1.1") if e.occurred_at == LATE]
    assert late and [e.seq for e in _search(chain.db, activity="1.1.1", from_day=date(2026, 11, 3))] == late
    assert not set(late) & {e.seq for e in _search(chain.db, activity="1.1.1", to_day=date(2026, 11, 2))}
    assert [e.seq for e in _search(chain.db, activity="1.1.1", since=LATE)] == late  # a moment, for the API


def test_a_page_is_bounded_and_a_cursor_is_checked(chain: Chain) -> None:
    with chain.db.reading() as session:
        leader = people.get_user(session, "processledare")
        for wrong in (AuditQuery(limit=0), AuditQuery(limit=201), AuditQuery(cursor="x")):
            with pytest.raises(InvalidInput):
                trail.search(session, leader, wrong)
        with pytest.raises(InvalidInput) as refused:
            trail.search(session, leader, AuditQuery(from_day=date(1, 1, 1)))
        assert set(refused.value.fields) == {"from"}
        first = trail.search(session, leader, AuditQuery(limit=2))
        second = trail.search(session, leader, AuditQuery(limit=2, cursor=first.next_cursor))
        assert [e.seq for e in first.items + second.items] == [
            e.seq for e in trail.search(session, leader, AuditQuery(limit=4)).items
        ]


def test_the_export_reads_every_event_in_batches_as_the_trail_was_when_it_began(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trail, "EXPORT_BATCH", 2)
    with chain.db.reading() as session:
        head = session.get(AuditHead, 1).seq  # type: ignore[union-attr]
    assert head > 4
    events = trail.export(
        chain.db.reading, lambda s: people.get_user(s, "processledare"), AuditQuery(cursor="3", limit=1)
    )
    first = next(events)
    with chain.db.transaction() as session:  # nothing held open between batches: a writer goes on
        audit.record(session, OPERATOR_ACTOR, "plan.imported", "plan", "x")
    assert [first.seq, *(e.seq for e in events)] == list(range(head, 0, -1))  # all, none later
    with pytest.raises(Forbidden):  # checked before the first event
        trail.export(chain.db.reading, lambda s: people.get_user(s, "naringslivsradet"), AuditQuery())


def test_only_those_who_read_internal_records_search(chain: Chain) -> None:
    with chain.db.reading() as session:
        with pytest.raises(Forbidden):
            trail.search(session, people.get_user(session, "naringslivsradet"), AuditQuery())
        with pytest.raises(Forbidden):
            trail.head(session, people.get_user(session, "naringslivsradet"))
        assert trail.search(session, OPERATOR_ACTOR, AuditQuery(limit=1)).items  # the server's shell


def test_an_activitys_events_keep_to_its_plan(chain: Chain) -> None:
    with chain.db.transaction() as session:
        document = plans.read_plan_document()
        plans.load_plan(session, OPERATOR_ACTOR, {**document, "slug": "plan-b"})
        leader = Actor(people.get_user(session, "processledare"))
        activity_edits.update_activity(
            session, leader, plans.get_plan(session, "plan-b"), "1.1.1", "B:s titel", None, None, None, None
        )
    in_b = _search(chain.db, activity="1.1.1", plan="plan-b")
    assert "activity.updated" in _actions(in_b)
    assert "activity.updated" not in _actions(_search(chain.db, activity="1.1.1"))  # the default plan's


# Is the trail intact: one answer, with what it could and could not check.


def _integrity(db: Database, key: SigningKey | None) -> checkpoints.Integrity:
    with db.reading() as session:
        return checkpoints.integrity(session, OPERATOR_ACTOR, key.public_key if key else None)


def test_integrity_says_how_far_it_could_check(seeded: Database) -> None:
    key = SigningKey(Ed25519PrivateKey.generate())
    unanchored = _integrity(seeded, key)
    assert (unanchored.intact, unanchored.verdict, unanchored.checkpoints) == (True, Verdict.UNANCHORED, 0)
    assert _integrity(seeded, None).verdict is Verdict.UNANCHORED  # nothing a key would check
    with seeded.transaction() as session:
        anchored_seq = checkpoints.make_checkpoint(session, key).seq
    with seeded.transaction() as session:
        audit.record(session, SYSTEM_ACTOR, "test.noted", "test", 1)
    anchored = _integrity(seeded, key)
    assert (anchored.intact, anchored.verdict, anchored.anchored_seq, anchored.unanchored) == (
        True,
        Verdict.ANCHORED,
        anchored_seq,
        1,
    )
    assert (anchored.key_available, anchored.key_id) == (True, key.public_key.key_id)
    unchecked = _integrity(seeded, None)
    assert (unchecked.intact, unchecked.verdict, unchecked.chain_intact, unchecked.first_bad) == (
        False,
        Verdict.UNCHECKED,
        True,
        None,
    )
    assert unchecked.problem and "1 signed checkpoint(s) not checked" in unchecked.problem
    other = _integrity(seeded, SigningKey(Ed25519PrivateKey.generate()))
    assert (other.intact, other.verdict, other.first_bad) == (False, Verdict.BROKEN, anchored_seq)
    with seeded.reading() as session, pytest.raises(Forbidden):
        checkpoints.integrity(session, people.get_user(session, "naringslivsradet"), key.public_key)
