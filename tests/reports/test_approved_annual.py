"""An issued annual report is exactly what the steering group approved and the board noted, figure by
figure, and says so on its face: decisions taken after the approval (a deviation decided, an activity
added in January) change nothing in it, and the year compiled is the local year (Stockholm): a
decision at 23:30 on New Year's Eve counts, one at 00:30 on New Year's Day does not (issue 19)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from planflow import clock, reports
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.models import AnnualReport
from planflow.services.authority import people
from planflow.services.chain import annual, proposals
from planflow.services.errors import Conflict
from planflow.services.outputs import issued
from planflow.services.records import audit, case_numbers
from planflow.services.records.audit import Actor

from ..services.chain import Chain
from .conftest import pdf_text
from .year import decide

# What the report of a year holds that the steering group approves (everything but where it stands).
FIGURES = ("areas", "totals", "periods", "deviations", "completed", "new_activities", "decisions", "summary")


@pytest.fixture
def stockholm() -> Iterator[None]:
    before = clock.zone().key
    clock.set_zone("Europe/Stockholm")
    yield
    clock.set_zone(before)


@pytest.fixture
def signer() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return SigningKey(Ed25519PrivateKey.generate())


def _at(local: str) -> None:
    """Stockholm time, as the installation's clock keeps it (UTC)."""
    clock.set_now(datetime.fromisoformat(local).replace(tzinfo=clock.zone()).astimezone(UTC))


def _add_activity(chain: Chain, title: str, decided_at: str) -> None:
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


def _issue(db: Database, signer: SigningKey) -> int:
    with db.transaction() as session:
        actor = Actor(people.get_user(session, "processledare"))
        return issued.issue_report(session, actor, signer, "annual", "2026", render=reports.render).id


def _figures(content: dict[str, Any]) -> dict[str, Any]:
    return {key: content[key] for key in FIGURES}


@pytest.fixture
def approved(seeded: Database, stockholm: None) -> Chain:
    """2026 with decisions on both sides of New Year, the report compiled and approved on 5 January."""
    chain = Chain(seeded)
    _at("2026-11-02T09:00")
    chain.start_cycle("2026-Q4", date(2026, 12, 15))
    for code in ("1.1.1", "1.1.2", "1.1.3"):
        chain.report_and_accept(code, "red", cause=f"Försenad: {code}.")
    _at("2026-12-31T20:00")
    _add_activity(chain, "Beslutad på nyårsafton", "2026-12-31T23:15")
    _at("2026-12-31T23:30")  # 22:30 UTC: in 2026
    decide(chain, "1.1.1", "approve", "Beslutad på nyårsafton.")
    _at("2027-01-01T00:30")  # 23:30 UTC on 31 December: in 2027
    decide(chain, "1.1.2", "reprioritise", "Beslutad på nyårsdagen.")

    _at("2027-01-05T09:00")
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Året i korthet."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    return chain


def test_the_compiled_year_is_the_local_year(approved: Chain) -> None:
    with approved.db.reading() as session:
        report = session.scalars(select(AnnualReport)).one()
        content = annual.compiled_content(report)
        (event,) = audit.events(session, action="annual_report.compiled")
        compiled = event.data
    decided = {d.activity_code: (d.decision, d.decided_on) for d in content.deviations}
    assert decided == {"1.1.1": ("approve", date(2026, 12, 31)), "1.1.2": (None, None), "1.1.3": (None, None)}
    assert [n.title for n in content.new_activities] == ["Beslutad på nyårsafton"]
    assert content.decisions == 2 and sum(content.totals.values()) == 61
    # The trail holds what the group was asked to approve, in the same figures the report prints.
    assert (compiled["decisions"], compiled["activities"]) == (2, 61)


def test_an_issued_annual_report_is_the_approved_one_figure_by_figure(
    approved: Chain, signer: SigningKey
) -> None:
    db = approved.db
    with db.reading() as session:
        snapshot = dict(session.scalars(select(AnnualReport)).one().snapshot)

    _at("2027-01-15T10:00")  # after the approval, the plan moves on
    decide(approved, "1.1.3", "close", "Avslutas i januari.")
    _add_activity(approved, "Beslutad i januari", "2027-01-18T10:00")
    _at("2027-01-25T14:00")
    approved.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2027-01-25", "paragraph": "§ 12"}
    )
    with db.transaction() as session:
        case_numbers.set_case_number(
            session, Actor(people.get_user(session, "processledare")), "annual_report", "2026", "KS 2026/345"
        )
    _at("2027-01-26T09:00")
    report_id = _issue(db, signer)

    with db.reading() as session:
        frozen = session.get(issued.IssuedReport, report_id)
        assert frozen is not None
        content = frozen.content["report"]
        pdf = issued.issued_file(session, report_id, "pdf").data
    assert _figures(content) == _figures(snapshot)
    assert content["decisions"] == 2 and sum(content["totals"].values()) == 61
    assert "Beslutad i januari" not in str(content) and "Avslutas i januari" not in str(content)
    assert (content["approved_on"], content["board_decided_on"], content["board_paragraph"]) == (
        "2027-01-05",
        "2027-01-25",
        "§ 12",
    )
    said = pdf_text(pdf)  # read back by pypdf, not by our writer
    assert "Styrgruppen fattade 2 beslut" in said
    assert "Godkänd av styrgruppen 2027-01-05. Kommunstyrelsen tog del av rapporten 2027-01-25, § 12." in said
    assert "Diarienummer KS 2026/345" in said and "Utfärdad 2027-01-26" in said


def test_an_annual_report_the_steering_group_has_not_approved_is_not_issued(
    seeded: Database, signer: SigningKey
) -> None:
    clock.set_now(datetime(2026, 12, 1, 9, tzinfo=UTC))
    chain = Chain(seeded)
    for step in (None, "compile"):
        if step == "compile":
            with seeded.transaction() as session:
                annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
            chain.do("processledare", "compile_annual_report", {"summary": "Utkast."})
        with pytest.raises(Conflict) as refused:
            _issue(seeded, signer)
        assert refused.value.code == "error.annual.not_approved"
