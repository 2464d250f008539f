"""The scheduler's timer job: one instance with broken state is skipped and logged, and the
others' timers still fire."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from planflow.models import Deviation, PendingTimer, ProcessInstance
from planflow.services.chain import timers

from .chain import START, Chain


def _garbage_timer(state: str) -> str:
    dct = json.loads(state)
    for task in dct["tasks"].values():
        if "event_value" in task["internal_data"]:
            task["internal_data"]["event_value"] = "garbage"
    return json.dumps(dct)


@pytest.mark.parametrize(
    "breakage", [lambda state: "not json", _garbage_timer], ids=["not JSON", "garbage timer value"]
)
def test_a_broken_instance_does_not_stop_another_instances_timer_from_firing(
    chain: Chain, breakage: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    chain.report_and_accept("3.4.2", "red", cause="Inga lokaler registrerade.")
    chain.report_and_accept("1.1.1", "red", cause="Färre besök än planerat.")
    with chain.db.transaction() as session:
        # Break the instance whose timer comes first, so the job must go on past it.
        broken_id, healthy_id = session.scalars(
            select(PendingTimer.instance_id).order_by(PendingTimer.due_at, PendingTimer.id)
        ).all()
        broken = session.get_one(ProcessInstance, broken_id)
        broken.state = breakage(broken.state)

    with caplog.at_level(logging.ERROR, logger=timers.__name__):
        fired = timers.fire_due_timers(chain.db.transaction, START + timedelta(days=15))

    assert fired == 1
    assert f"timers of process instance {broken_id} could not fire" in caplog.text
    with chain.db.transaction() as session:
        still_pending = session.scalars(select(PendingTimer.instance_id)).all()
        assert still_pending == [broken_id]
        escalated = session.scalars(select(Deviation).where(Deviation.escalated_at.is_not(None))).all()
        assert len(escalated) == 1
        assert healthy_id not in still_pending
