"""The task page keeps a draft (issue 18, item 12: "the web has no draft save although the API has
drafts"): its second button saves what is typed through tasks.save_draft, back on the same task
with a confirmation; the form opens filled with it; completing afterwards works; a field that is
already wrong is named and nothing is kept; the task stays open and nothing is decided."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from planflow.db import Database
from planflow.models import OpenTask, StatusReport
from planflow.services.records import audit
from tests.services.chain import Chain
from tests.web.conftest import post


def test_a_saved_draft_fills_the_form_next_time_and_the_task_completes_after(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    path = f"/tasks/{task.id}"
    client = signed_in("anna.nilsson")
    page = client.get(path).get_data(as_text=True)
    assert '<button type="submit" name="action" value="draft" formnovalidate' in page
    assert "Spara utkast" in page

    # status yellow without its cause: completing would be refused, a draft is kept
    saved = post(client, path, {"action": "draft", "status": "yellow", "comment": "Halvvägs."}, path)
    assert saved.status_code == 302 and saved.headers["Location"] == path
    again = client.get(path).get_data(as_text=True)
    assert "Utkastet är sparat." in again  # the confirmation, on the same task
    assert 'value="yellow" checked' in again and "Halvvägs.</textarea>" in again
    with web.reading() as session:
        assert session.get(OpenTask, task.id) is not None
        assert session.query(StatusReport).count() == 0
        (event,) = audit.events(session, action="task.draft_saved")
        assert event.actor == "anna.nilsson" and event.data == {"status": "yellow", "comment": "Halvvägs."}

    done = post(client, path, {"status": "yellow", "comment": "Halvvägs.", "cause": "Sen leverans."}, path)
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    with web.reading() as session:
        assert session.get(OpenTask, task.id) is None
        report = session.query(StatusReport).one()
        assert (report.status.value, report.cause) == ("yellow", "Sen leverans.")


def test_a_draft_with_a_wrong_field_is_refused_beside_it_and_nothing_is_kept(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    path = f"/tasks/{task.id}"
    client = signed_in("anna.nilsson")
    refused = post(client, path, {"action": "draft", "status": "purple", "comment": "Kvar."}, path)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="e-status"' in html and "Kvar.</textarea>" in html
    with web.reading() as session:
        assert audit.events(session, action="task.draft_saved") == []
    assert "Kvar." not in client.get(path).get_data(as_text=True)


def test_someone_elses_task_keeps_no_draft(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    refused = post(signed_in("erik.berg"), f"/tasks/{task.id}", {"action": "draft", "comment": "Mitt."})
    assert refused.status_code == 403
    with web.reading() as session:
        assert audit.events(session, action="task.draft_saved") == []
