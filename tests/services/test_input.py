"""Input that is not what a person types gets a per-field refusal that quotes little, changes
nothing and never reaches the audit chain's hashing or the database's text types."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import AuditEvent, StatusReport
from planflow.services.authority import people
from planflow.services.chain import proposals
from planflow.services.errors import InvalidInput
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR

from .chain import Chain


def _state(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            session.scalar(select(func.count()).select_from(StatusReport)) or 0,
        )


@pytest.mark.parametrize(
    ("comment", "code"),
    [
        ("Bra \ud800 start", "form.control_characters"),  # found: broke the audit hashing
        ("Bra\x00start", "form.control_characters"),  # found: PostgreSQL refused, SQLite stored it
        ("Ring\x1b[31m", "form.control_characters"),
        ("x" * 10_000_000, "form.too_long"),  # found: the refusal quoted all 10 MB back
    ],
    ids=["surrogate", "nul", "escape", "10MB"],
)
def test_text_that_no_person_types_is_refused_per_field(chain: Chain, comment: str, code: str) -> None:
    before = _state(chain.db)
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    with pytest.raises(InvalidInput) as refused:
        chain.complete("anna.nilsson", task.id, {"status": "green", "comment": comment})
    assert {f: m.key for f, m in refused.value.fields.items()} == {"comment": code}
    assert len(refused.value.render("sv")) < 200 and len(refused.value.render("en")) < 200
    assert _state(chain.db) == before
    with chain.db.transaction() as session:
        assert audit.verify(session).intact


def test_new_lines_and_tabs_are_text(chain: Chain) -> None:
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "Rad 1\nRad 2\tslut"}, "1.1.1")
    with chain.db.transaction() as session:
        assert session.scalars(select(StatusReport.comment)).one() == "Rad 1\nRad 2\tslut"
        assert audit.verify(session).intact


def test_a_huge_number_is_refused_by_its_length_not_by_int(seeded: Database) -> None:
    """Found: a 5,000-digit key raised ValueError from int() (Python's limit is 4,300 digits)."""
    data = {
        "title": "X",
        "intervention_area": "1" * 5000 + ".1",
        "owner": "lead1",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Y",
    }
    with seeded.transaction() as session, pytest.raises(InvalidInput) as refused:
        proposals.propose_activity(session, people.get_user(session, "lead1"), data)
    assert refused.value.fields["intervention_area"].key == "form.too_long"


def test_a_name_with_a_lone_surrogate_is_refused(seeded: Database) -> None:
    with seeded.transaction() as session, pytest.raises(InvalidInput) as refused:
        people.add_user(session, OPERATOR_ACTOR, "eva", "Eva \udcff", "eva@example.org")
    assert set(refused.value.fields) == {"display_name"}
