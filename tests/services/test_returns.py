"""Returned again and again: a report and a deviation's recommendation sent back hundreds of
times through the services, as their users would, still move on, with each return recorded;
and a completion that would leave an instance stuck is refused, not answered as done."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import (
    AuditEvent,
    Deviation,
    DeviationState,
    InstanceState,
    OpenTask,
    ProcessInstance,
    ReviewOutcome,
    StatusReport,
)
from planflow.services.errors import Conflict
from planflow.services.records import audit

from .chain import Chain

RETURNS = 300  # past the 250 at which an instance used to stop

# Six hundred completions are about the engine's stored state, not the database: SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _open(db: Database, instance_id: int, name: str) -> str:
    """The id of the instance's one open `name` task (straight from the projection: the inbox
    query is tested elsewhere, and 600 of them would only slow this down)."""
    with db.transaction() as session:
        return session.scalars(
            select(OpenTask.id).where(OpenTask.instance_id == instance_id, OpenTask.name == name)
        ).one()


def _instance_of(db: Database, task_id: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(OpenTask.instance_id).where(OpenTask.id == task_id)).one()


def _state_size(db: Database, instance_id: int) -> int:
    with db.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        return len(instance.state)


def _count(db: Database, action: str) -> int:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))
            or 0
        )


@SQLITE_ONLY
def test_a_report_returned_300_times_is_reported_again_and_accepted(chain: Chain) -> None:
    db = chain.db
    instance_id = _instance_of(db, chain.task("anna.nilsson", "report_status", "1.1.1").id)
    for round in range(1, RETURNS + 1):
        chain.complete(
            "anna.nilsson",
            _open(db, instance_id, "report_status"),
            {"status": "green", "comment": f"Försök {round}."},
        )
        chain.complete(
            "lead1",
            _open(db, instance_id, "review_report"),
            {"outcome": "return", "comment": f"Komplettera {round}."},
        )
        if round == 1:
            size_after_one = _state_size(db, instance_id)

    assert _state_size(db, instance_id) <= 1.2 * size_after_one
    assert _count(db, "status.returned") == RETURNS
    chain.complete(
        "anna.nilsson", _open(db, instance_id, "report_status"), {"status": "green", "comment": "Klart."}
    )
    chain.complete("lead1", _open(db, instance_id, "review_report"), {"outcome": "accept"})

    with db.transaction() as session:
        reviews = session.scalars(select(StatusReport.review).order_by(StatusReport.id)).all()
        assert reviews == [ReviewOutcome.RETURNED] * RETURNS + [ReviewOutcome.ACCEPTED]
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status is InstanceState.COMPLETED
        assert (
            session.scalar(
                select(func.count()).select_from(OpenTask).where(OpenTask.instance_id == instance_id)
            )
            == 0
        )
        assert audit.verify(session).intact


@SQLITE_ONLY
def test_a_recommendation_returned_300_times_is_agreed_and_decided(chain: Chain) -> None:
    db = chain.db
    chain.report_and_accept("1.1.1", "yellow", cause="Färre besök än planerat.")
    instance_id = _instance_of(db, chain.task("processledare", "draft_recommendation").id)
    for round in range(1, RETURNS + 1):
        chain.complete(
            "processledare",
            _open(db, instance_id, "draft_recommendation"),
            {"recommendation": f"Förslag {round}."},
        )
        chain.complete(
            "lead1",
            _open(db, instance_id, "agree_recommendation"),
            {"outcome": "return", "comment": f"Nej {round}."},
        )
        if round == 1:
            size_after_one = _state_size(db, instance_id)

    assert _state_size(db, instance_id) <= 1.2 * size_after_one
    assert _count(db, "deviation.recommendation_returned") == RETURNS
    chain.complete(
        "processledare", _open(db, instance_id, "draft_recommendation"), {"recommendation": "Sista."}
    )
    chain.complete("lead1", _open(db, instance_id, "agree_recommendation"), {"outcome": "agree"})
    chain.complete(
        "ordforande",
        _open(db, instance_id, "steering_decision"),
        {"decision": "approve", "rationale": "Bra."},
    )

    with db.transaction() as session:
        deviation = session.scalars(select(Deviation)).one()
        assert (deviation.state, deviation.recommendation) == (DeviationState.DECIDED, "Sista.")
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status is InstanceState.COMPLETED
        assert audit.verify(session).intact


def test_a_completion_that_would_leave_the_instance_stuck_is_refused_with_nothing_changed(
    chain: Chain,
) -> None:
    """The state is tampered so that the review after the report is already marked done: the
    report would then leave the instance running with nothing open. It must be refused (a
    Conflict), not answered as done with the report waiting for ever."""
    db = chain.db
    report_id = chain.task("anna.nilsson", "report_status", "1.1.1").id
    instance_id = _instance_of(db, report_id)
    with db.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        state = json.loads(instance.state)
        (review_id,) = state["tasks"][report_id]["children"]
        state["tasks"][review_id]["state"] = 64  # COMPLETED
        instance.state = json.dumps(state)
    events_before = _count(db, "status.reported")

    with pytest.raises(Conflict) as refused:
        chain.complete("anna.nilsson", report_id, {"status": "green"})

    assert refused.value.code == "error.process.stuck"
    assert "nothing left to do" in refused.value.render("en")
    assert _open(db, instance_id, "report_status") == report_id
    assert _count(db, "status.reported") == events_before
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusReport)) == 0
