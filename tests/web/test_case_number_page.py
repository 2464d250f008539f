"""The process leader registers a report's diarienummer on its page (issue 19, records metadata): the
number shows in the report's head, a number that cannot be kept is refused beside its field in the
service's words, and nobody without the right to issue sees the form or may post it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Decision
from planflow.services.records import audit
from tests.services.chain import Chain
from tests.web.conftest import post

PAGE, ACTION = "/reports/steering/2026-Q4", "/reports/case-number/steering/2026-Q4"


@pytest.fixture(autouse=True)
def _cycle(web: Database) -> None:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    Chain(web).start_cycle()


def test_the_process_leader_registers_the_steering_reports_case_number(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    assert f'action="{ACTION}"' in client.get(PAGE).get_data(as_text=True)
    saved = post(client, ACTION, {"case_number": " KS 2026/12 "}, PAGE)
    assert saved.status_code == 302 and saved.headers["Location"] == PAGE
    page = client.get(PAGE).get_data(as_text=True)
    assert "Diarienumret KS 2026/12 är registrerat." in page
    assert 'value="KS 2026/12"' in page and "Diarienummer KS 2026/12" in page  # the form and the head
    with web.reading() as session:
        (event,) = audit.events(session, action="case_number.set")
        assert (event.actor, event.subject_id, event.data["case_number"]) == (
            "processledare",
            "2026-Q4",
            "KS 2026/12",
        )

    refused = post(client, ACTION, {"case_number": "KS " + "9" * 70}, PAGE)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="e-case">högst 64 tecken</p>' in html and 'aria-invalid="true"' in html


@pytest.mark.parametrize("username", ["anna.nilsson", "lead1", "ordforande"])
def test_without_the_right_there_is_no_form_and_a_post_is_refused(
    signed_in: Callable[[str], FlaskClient], web: Database, username: str
) -> None:
    client = signed_in(username)
    assert ACTION not in client.get(PAGE).get_data(as_text=True)
    assert post(client, ACTION, {"case_number": "KS 2026/12"}, PAGE).status_code == 403
    with web.reading() as session:
        assert audit.events(session, action="case_number.set") == []


def _decided(web: Database) -> int:
    """1.4.1 reported red in 2026-Q4, and the steering group's decision on it: its id."""
    chain = Chain(web)
    data = {"status": "red", "comment": "Lokalen saknas.", "cause": "Ingen lokal."}
    chain.do(chain.owner_of("1.4.1"), "report_status", data, "1.4.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.4.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Hyr en lokal."}, "1.4.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.4.1")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Rimligt."}, "1.4.1")
    with web.reading() as session:
        (decision,) = session.scalars(select(Decision)).all()
        return decision.id


def _numbers(web: Database) -> list[str | None]:
    with web.reading() as session:
        return list(session.scalars(select(Decision.case_number)))


def test_the_process_leader_registers_a_steering_decisions_case_number_on_the_report_page(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    decision = _decided(web)
    action = f"/reports/steering/2026-Q4/decisions/{decision}/case-number"
    client = signed_in("processledare")
    page = client.get(PAGE).get_data(as_text=True)
    assert f'action="{action}"' in page and f'<label for="f-case-d{decision}">' in page
    saved = post(client, action, {"case_number": "KS 2026/7"}, PAGE)
    assert saved.status_code == 302 and saved.headers["Location"] == f"{PAGE}#decision-{decision}"
    assert _numbers(web) == ["KS 2026/7"]
    page = client.get(PAGE).get_data(as_text=True)
    assert "Diarienumret KS 2026/7 är registrerat." in page
    assert f'id="f-case-d{decision}" name="case_number" maxlength="64" size="20" value="KS 2026/7"' in page
    assert "Rekommendationen godkänd" in page and ", Diarienummer KS 2026/7" in page  # the report prints it
    with web.reading() as session:
        (event,) = audit.events(session, action="case_number.set")
        assert (event.actor, event.subject_type, event.subject_id) == (
            "processledare",
            "decision",
            str(decision),
        )


@pytest.mark.parametrize(
    ("typed", "said"),
    [("KS " + "9" * 70, "högst 64 tecken"), ("KS\t2026/7", "innehåller tecken som inte är text")],
)
def test_a_decisions_case_number_that_cannot_be_kept_is_refused_beside_its_field(
    signed_in: Callable[[str], FlaskClient], web: Database, typed: str, said: str
) -> None:
    decision = _decided(web)
    client = signed_in("processledare")
    refused = post(
        client, f"/reports/steering/2026-Q4/decisions/{decision}/case-number", {"case_number": typed}, PAGE
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(rf'<p class="error" id="e-case-d{decision}">{said}[^<]*</p>', html)
    assert f'aria-invalid="true" aria-describedby="h-decisions e-case-d{decision}"' in html
    assert _numbers(web) == [None]
    with web.reading() as session:
        assert audit.events(session, action="case_number.set") == []


@pytest.mark.parametrize("username", ["anna.nilsson", "lead1", "ordforande"])
def test_only_who_issues_reports_sees_or_sets_a_decisions_case_number(
    signed_in: Callable[[str], FlaskClient], web: Database, username: str
) -> None:
    decision = _decided(web)
    action = f"/reports/steering/2026-Q4/decisions/{decision}/case-number"
    client = signed_in(username)
    assert action not in client.get(PAGE).get_data(as_text=True)
    assert post(client, action, {"case_number": "KS 2026/7"}, PAGE).status_code == 403
    assert _numbers(web) == [None]


def test_a_decision_of_another_period_is_not_set_from_this_reports_page(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    decision = _decided(web)
    client = signed_in("processledare")
    wrong = post(
        client, f"/reports/steering/2026-Q3/decisions/{decision}/case-number", {"case_number": "X"}, PAGE
    )
    assert wrong.status_code == 404 and _numbers(web) == [None]
