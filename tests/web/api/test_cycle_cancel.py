"""POST /api/v1/cycles/<period>/cancel: a cycle started by mistake is cancelled as on the page and
the command line (cycles.cancel), refused the same way."""

from __future__ import annotations

from .conftest import Api

MISTAKE = {"period": "2027-01", "deadline": "2027-01-25"}


def test_the_api_cancels_as_the_page_does(api: Api) -> None:
    started = api("POST", "/cycles", "processledare", json=MISTAKE)
    assert started.status_code == 201, started.json
    refused = api("POST", "/cycles/2027-01/cancel", "lead1", json={"reason": "fel"})
    assert refused.status_code == 403
    blank = api("POST", "/cycles/2027-01/cancel", "processledare", json={"reason": ""})
    assert blank.status_code == 400
    done = api("POST", "/cycles/2027-01/cancel", "processledare", json={"reason": "Fel period"})
    assert done.status_code == 200, done.json
    assert (done.json["state"], done.json["reason"], done.json["tasks_withdrawn"]) == (
        "cancelled",
        "Fel period",
        started.json["reports"],
    )
    twice = api("POST", "/cycles/2027-01/cancel", "processledare", json={"reason": "Fel period"})
    assert twice.status_code == 409
    assert api("GET", "/cycles/2027-01", "processledare").json["state"] == "cancelled"
