"""Showing a task has one rule (tasks.show_task): an open task to those who may act on it, a
completed one (who completed it, when) to the municipality's own people, never to an outsider,
on the task page and in the API alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask.testing import FlaskClient

from ...services.chain import Chain
from .conftest import Api


def test_a_completed_task_is_shown_to_the_municipality_never_to_an_outsider(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    done = chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    unknown = str(uuid.uuid4())

    outsider = signed_in("naringslivsradet")
    for task_id in (done, unknown):  # refused whether or not the task exists
        page = outsider.get(f"/tasks/{task_id}")
        assert page.status_code == 403 and "Anna Nilsson" not in page.get_data(as_text=True)
        assert api("GET", f"/tasks/{task_id}", "naringslivsradet").status_code == 403

    for username in ("anna.nilsson", "styrgrupp.nk"):
        page = signed_in(username).get(f"/tasks/{done}")
        assert page.status_code == 200 and "Anna Nilsson" in page.get_data(as_text=True), username
        assert api("GET", f"/tasks/{done}", username).status_code == 404  # the API shows open tasks
    assert signed_in("anna.nilsson").get(f"/tasks/{unknown}").status_code == 404
