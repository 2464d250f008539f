"""The steering group's queue has one answer (deviations.steering_queue): the steering page and
GET /api/v1/deviations list the same deviations in the same order, with the same count in each
state, unfiltered and filtered by state."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from ...services.chain import Chain
from .conftest import Api

ITEM = re.compile(r'data-deviation="(\d+)" data-state="([a-z]+)"')
COUNT = re.compile(r'<dd data-state="([a-z]+)">(\d+)</dd>')
QUEUE = re.compile(r'<section aria-labelledby="queue-h">(.*?)</section>', re.S)
LINKED = re.compile(r'<a href="/activities/([0-9.]+)">')


def _deviations_in_every_state(chain: Chain) -> None:
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")  # agreed: awaits the group
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    chain.report_and_accept("2.1.1", "yellow", cause="Sen start.")  # open: no recommendation yet
    chain.report_and_accept("3.1.1", "red", cause="Inga lokaler.")  # recommended: with the lead
    chain.do("processledare", "draft_recommendation", {"recommendation": "Hyr in."}, "3.1.1")
    chain.report_and_accept("4.1.1", "red", cause="Ingen personal.")  # decided
    chain.do("processledare", "draft_recommendation", {"recommendation": "Rekrytera."}, "4.1.1")
    chain.do("lead4", "agree_recommendation", {"outcome": "agree"}, "4.1.1")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Ja."}, "4.1.1")


def _page(client: FlaskClient, query: str) -> tuple[list[str], list[tuple[int, str]], dict[str, int]]:
    """The activities the page's queue links to, in order; its items' ids and states; its counts."""
    response = client.get(f"/steering{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    queue = QUEUE.search(html)
    assert queue
    items = [(int(i), state) for i, state in ITEM.findall(html)]
    counts = {state: int(n) for state, n in COUNT.findall(html)}
    return LINKED.findall(queue.group(1)), items, counts


def test_the_steering_page_and_the_api_show_the_same_queue(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    _deviations_in_every_state(chain)
    for username in ("ordforande", "styrgrupp.nk", "processledare"):
        client = signed_in(username)
        for query in ("", "?state=agreed", "?state=open", "?state=decided"):
            answer = api("GET", f"/deviations{query}", username).json
            linked, items, counts = _page(client, query)
            assert linked == [d["activity_code"] for d in answer["items"]], (username, query)
            assert items == [(d["id"], d["state"]) for d in answer["items"]], (username, query)
            shown = {state: n for state, n in answer["counts"].items() if state != "decided" or n}
            assert counts == shown, (username, query)
    everything = api("GET", "/deviations", "ordforande").json
    assert everything["counts"] == {"open": 1, "recommended": 1, "agreed": 1, "decided": 0}
    assert [d["activity_code"] for d in everything["items"]] == ["1.1.1", "3.1.1", "2.1.1"]
    assert [bool(d["task_id"]) for d in everything["items"]] == [True, False, False]
    decided = api("GET", "/deviations?state=decided", "ordforande").json
    assert decided["counts"]["decided"] == 1 and decided["items"][0]["activity_code"] == "4.1.1"
    assert signed_in("anna.nilsson").get("/steering").status_code == 403
    assert api("GET", "/deviations", "anna.nilsson").status_code == 403
