"""Four eyes through the front ends: a lead's review of their own report is refused by the task
page and the API alike (403, saying why), and the process leader completes it through either."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR

from ...services.chain import Chain
from ..conftest import post
from .conftest import Api

WHY = "ingen granskar det de själva har rapporterat"


def test_a_lead_is_refused_their_own_review_by_page_and_api_the_process_leader_is_not(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    with chain.db.transaction() as session:
        people.set_activity_owner(session, OPERATOR_ACTOR, "1.1.1", "lead1")
    chain.do("lead1", "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("processledare", "review_report", "1.1.1")

    inbox = api("GET", "/inbox?limit=200", "lead1").json["items"]
    assert review.id not in {t["id"] for t in inbox}
    shown = api("GET", f"/tasks/{review.id}", "lead1")
    done = api("POST", f"/tasks/{review.id}/complete", "lead1", json={"data": {"outcome": "accept"}})
    for answer in (shown, done):
        assert answer.status_code == 403 and answer.json["code"] == "error.access.own_report"
        assert WHY in answer.json["detail"]

    lead = signed_in("lead1")
    assert review.id not in lead.get("/inbox").get_data(as_text=True)
    page = lead.get(f"/tasks/{review.id}")
    posted = post(lead, f"/tasks/{review.id}", {"outcome": "accept"})
    for answer in (page, posted):
        assert answer.status_code == 403 and WHY in answer.get_data(as_text=True)

    leader = signed_in("processledare")
    assert review.id in leader.get("/inbox").get_data(as_text=True)
    assert leader.get(f"/tasks/{review.id}").status_code == 200
    accepted = post(leader, f"/tasks/{review.id}", {"outcome": "accept"})
    assert accepted.status_code == 302
    assert api("GET", f"/tasks/{review.id}", "processledare").status_code == 404  # done
