"""The annual report's year is the installation's local year: a decision at 23:30 on New Year's Eve,
local time, belongs to the year it was taken in, and one at 00:30 on New Year's Day to the next,
in the report's content, which is what compiling it freezes for the steering group to approve (it was
UTC), and a decision after the year is not in it (it took every deviation's latest decision)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from planflow import clock
from planflow.db import Database
from planflow.services.authority import people
from planflow.services.chain import proposals
from planflow.services.outputs.reports import annual_report_content
from planflow.services.plan import plans

from ..services.chain import Chain
from .year import decide


@pytest.fixture(params=["Europe/Stockholm", "America/New_York"])
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """East of Greenwich the UTC year ends too early, west of it too late: both are tried."""
    before = clock.zone().key
    clock.set_zone(request.param)
    yield request.param
    clock.set_zone(before)


def _at(local: str) -> None:
    clock.set_now(datetime.fromisoformat(local).replace(tzinfo=clock.zone()).astimezone(UTC))


def _approve_proposal(chain: Chain, title: str, decided_at: str) -> None:
    with chain.db.transaction() as session:
        proposal = {
            "title": title,
            "intervention_area": "3.4",
            "owner": "johan.ek",
            "start": "2027-01-01",
            "end": "2027-12-31",
            "why": "Efterfrågat.",
        }
        proposals.propose_activity(session, people.get_user(session, "lead3"), proposal)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    _at(decided_at)
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": title})


def test_new_years_eve_local_time_belongs_to_the_year(seeded: Database, zone: str) -> None:
    chain = Chain(seeded)
    _at("2026-11-02T09:00")
    chain.start_cycle("2026-Q4", date(2026, 12, 15))
    chain.report_and_accept("1.1.1", "red", cause="Inga besök.")
    _at("2026-12-31T20:00")
    _approve_proposal(chain, "Beslutad på nyårsafton", "2026-12-31T23:30")
    _approve_proposal(chain, "Beslutad på nyårsdagen", "2027-01-01T00:30")
    decide(chain, "1.1.1", "approve", "Beslutad på nyårsdagen.")  # still 00:30 local

    with seeded.reading() as session:
        plan = plans.get_plan(session)
        year, next_year = (
            annual_report_content(session, plan, 2026),
            annual_report_content(session, plan, 2027),
        )

    assert [(n.rationale, n.decided_on) for n in year.new_activities] == [
        ("Beslutad på nyårsafton", date(2026, 12, 31))
    ]
    assert [(n.rationale, n.decided_on) for n in next_year.new_activities] == [
        ("Beslutad på nyårsdagen", date(2027, 1, 1))
    ]
    # The deviation was opened in 2026 and decided in 2027: the year's report says it is undecided.
    assert [(d.activity_code, d.decision) for d in year.deviations] == [("1.1.1", None)]
    assert year.decisions == 1 and next_year.decisions == 1
