"""The task page shows the case beside the form (templates/inbox/case/): a returned task's reason
first, the form filled with what was sent, the inbox row marked returned by whom."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
from planflow.services.authority import people

from ..services.chain import START, Chain


def _chain(db: Database) -> Chain:
    clock.set_now(START)
    chain = Chain(db)
    chain.start_cycle()
    return chain


def _name(db: Database, username: str) -> str:
    with db.transaction() as session:
        return people.get_user(session, username).display_name


def test_a_returned_report_shows_the_reason_first_and_the_form_filled(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    chain.do(
        "anna.nilsson",
        "report_status",
        {"status": "red", "comment": "Stoppad.", "cause": "Ingen budget."},
        "1.1.1",
    )
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange när budgeten kommer."}, "1.1.1")
    owner = signed_in("anna.nilsson")
    lead = _name(web, "lead1")

    inbox = owner.get("/inbox").get_data(as_text=True)
    assert f"Återsänd av {lead}" in inbox

    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    page = owner.get(f"/tasks/{task.id}").get_data(as_text=True)
    banner = page.index('id="returned-h"')
    assert f"Återsänd av {lead} den" in page[banner : banner + 200]
    assert banner < page.index("Ange när budgeten kommer.") < page.index('id="form-h"')
    assert re.search(r'<input type="radio" name="status" value="red" checked', page)
    assert ">Ingen budget.</textarea>" in page and "Stoppad." in page
