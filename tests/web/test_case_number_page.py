"""The process leader registers a report's diarienummer on its page (issue 19, records metadata): the
number shows in the report's head, a number that cannot be kept is refused beside its field in the
service's words, and nobody without the right to issue sees the form or may post it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
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
