"""The diarienummer a municipality registers (issue 19, records metadata): the process leader sets it
on a cycle's steering report, on a steering decision and on the annual report; the documents print it,
the archive keeps it as a field, the trail holds each setting; a number that is too long or holds
control characters is refused with the field and the reason."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from planflow import reports
from planflow.audit_keys import SigningKey
from planflow.models import Decision
from planflow.services.authority import people
from planflow.services.errors import Forbidden, InvalidInput, NotFound
from planflow.services.outputs import archive, csvfile, issued
from planflow.services.outputs.archive import layout
from planflow.services.records import audit, case_numbers
from planflow.services.records.audit import Actor

from ..reports.conftest import pdf_text
from .chain import Chain
from .steering import annual_report_compiled


def _set(chain: Chain, subject: str, key: str, number: str, username: str = "processledare") -> None:
    with chain.db.transaction() as session:
        actor = Actor(people.get_user(session, username))
        case_numbers.set_case_number(session, actor, subject, key, number)


def _decided(chain: Chain) -> int:
    """1.1.1 reported red and its deviation approved by the steering group: the decision's id."""
    chain.report_and_accept("1.1.1", "red", cause="Inga besök.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Ny tidplan."}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Rimligt."}, "1.1.1")
    with chain.db.reading() as session:
        return session.scalars(select(Decision.id)).one()


def test_case_numbers_are_printed_archived_and_audited(chain: Chain) -> None:
    decision = _decided(chain)
    annual_report_compiled(chain)
    _set(chain, "cycle", "2026-Q4", " KS 2026/12 ")
    _set(chain, "decision", str(decision), "KS 2026/13")
    _set(chain, "annual_report", "2026", "KS 2026/14")
    signer = SigningKey(Ed25519PrivateKey.generate())
    with chain.db.transaction() as session:
        actor = Actor(people.get_user(session, "processledare"))
        report = issued.issue_report(session, actor, signer, "steering", "2026-Q4", render=reports.render)
        pdf = report.files[[f.format for f in report.files].index("pdf")].data
    said = pdf_text(pdf)  # read back by pypdf
    assert "Diarienummer KS 2026/12" in said and "Diarienummer KS 2026/13" in said

    with chain.db.transaction() as session:  # export signs a checkpoint of the head first
        files = archive.export_archive(session, signer)
        events = [
            (e.action, e.subject_type, e.subject_id, e.data)
            for e in audit.events(session, action="case_number.set")
        ]
    cycles = csvfile.read_csv(files[layout.table_csv("cycles")])
    decisions = csvfile.read_csv(files[layout.table_csv("decisions")])
    annual = csvfile.read_csv(files[layout.table_csv("annual_reports")])
    (issue,) = json.loads(files[layout.ISSUED])
    assert [c["case_number"] for c in cycles] == ["KS 2026/12"]
    assert [(d["id"], d["case_number"]) for d in decisions] == [(str(decision), "KS 2026/13")]
    assert [(a["year"], a["case_number"], a["state"]) for a in annual] == [("2026", "KS 2026/14", "compiled")]
    assert issue["case_number"] == "KS 2026/12"
    assert sorted((subject, key, data["case_number"]) for _, subject, key, data in events) == [
        ("annual_report", "2026", "KS 2026/14"),
        ("cycle", "2026-Q4", "KS 2026/12"),
        ("decision", str(decision), "KS 2026/13"),
    ]

    _set(chain, "cycle", "2026-Q4", "  ")  # blank clears it
    with chain.db.reading() as session:
        cleared = max(audit.events(session, action="case_number.set"), key=lambda e: e.seq).data
    assert (cleared["case_number"], cleared["before"]) == (None, "KS 2026/12")


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("KS " + "1" * 62, "form.too_long"),
        ("KS 2026/\n12", "form.control_characters"),
        ("KS\x072026", "form.control_characters"),
    ],
)
def test_a_case_number_that_cannot_be_kept_is_refused_on_its_field(
    chain: Chain, number: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _set(chain, "cycle", "2026-Q4", number)
    assert refused.value.code == "error.case_number.invalid"
    assert refused.value.fields["case_number"].key == problem
    assert "Diarienumret" in refused.value.render("sv")


def test_a_case_number_goes_on_a_record_that_exists_set_by_the_process_leader(chain: Chain) -> None:
    with pytest.raises(Forbidden):
        _set(chain, "cycle", "2026-Q4", "KS 2026/12", username="lead1")
    for subject, key in (("annual_report", "2026"), ("decision", "999"), ("cycle", "2031-Q1")):
        with pytest.raises(NotFound):
            _set(chain, subject, key, "KS 2026/12")
    with pytest.raises(InvalidInput) as refused:
        _set(chain, "meeting", "1", "KS 2026/12")
    assert refused.value.code == "error.case_number.subject"
    with chain.db.reading() as session:
        assert audit.events(session, action="case_number.set") == []
