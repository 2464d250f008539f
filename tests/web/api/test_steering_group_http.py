"""The steering group over HTTP: the meeting's refusal reaches the API as the service words it
(the activities named, the field at fault), leaving open closes it; GET /steering/awaiting shows a
member what awaits the group, with its comments; POST /steering/comments takes a member's word
while the item awaits, refuses it after the decision (409), to anyone outside the group (403) and
blank or too long (400)."""

from __future__ import annotations

from ...services.chain import Chain
from ...services.steering import (
    RETURNED,
    proposed_and_forwarded,
    recommended_and_agreed,
    reported_with_a_red,
    returned_by_the_chair,
    to_the_meeting,
)
from .conftest import Api


def test_the_api_refuses_the_meeting_as_the_service_does_and_takes_what_is_left_open(
    api: Api, chain: Chain
) -> None:
    returned_by_the_chair(chain)
    meeting = to_the_meeting(chain)
    refused = api("POST", f"/tasks/{meeting}/complete", "ordforande", json={"data": {"notes": "Noterat."}})
    assert refused.status_code == 400, refused.json
    problem = refused.json
    assert problem["code"] == "error.steering.undecided"
    assert "4.2.3 (återsänd till processledaren)" in problem["detail"]
    assert problem["errors"]["data.left_open"]["code"] == "form.steering.decide_or_leave_open"
    english = api(
        "POST",
        f"/tasks/{meeting}/complete",
        "ordforande",
        json={"data": {"notes": "Noterat."}},
        headers={"Accept-Language": "en"},
    )
    assert "4.2.3 (returned to the process leader)" in english.json["detail"]
    awaiting = api("GET", "/steering/awaiting", "styrgrupp.nk").json
    assert awaiting["deviations"] == [] and [d["activity_code"] for d in awaiting["returned"]] == [RETURNED]
    assert awaiting["returned"][0]["returned_because"] == "Räkna på kostnaden först."

    done = api(
        "POST",
        f"/tasks/{meeting}/complete",
        "ordforande",
        json={"data": {"notes": "Noterat.", "left_open": [RETURNED]}},
    )
    assert done.status_code == 200, done.json
    cycle = api("GET", "/cycles/2026-Q4", "processledare").json
    assert cycle["state"] == "reported"


def test_a_member_reads_what_awaits_and_comments_until_the_chair_decides(api: Api, chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    awaiting = api("GET", "/steering/awaiting", "styrgrupp.nk")
    assert awaiting.status_code == 200
    body = awaiting.json
    assert [d["activity_code"] for d in body["deviations"]] == [RETURNED]
    assert [p["title"] for p in body["proposals"]] == ["Lokalguide för nyetablerade företag"]
    assert body["may_comment"] is True and body["deviations"][0]["may_record"] is False
    deviation = body["deviations"][0]["deviation_id"]
    proposal = body["proposals"][0]["proposal_id"]

    said = api(
        "POST",
        "/steering/comments",
        "styrgrupp.nk",
        json={"subject_type": "proposal", "subject_id": proposal, "comment": "Stöd förslaget."},
    )
    assert said.status_code == 201, said.json
    assert said.json["text"] == "Stöd förslaget." and said.json["decision_id"] is None
    for user, text, status in (
        ("styrgrupp.nk", "", 400),
        ("styrgrupp.nk", " ", 400),
        ("styrgrupp.nk", "x" * 5001, 400),
        ("anna.nilsson", "Får jag?", 403),
        ("processledare", "Får jag?", 403),
    ):
        answer = api(
            "POST",
            "/steering/comments",
            user,
            json={"subject_type": "deviation", "subject_id": deviation, "comment": text},
        )
        assert answer.status_code == status, (user, text[:5], answer.json)
    chair = api("GET", "/steering/awaiting", "ordforande").json
    assert [c["text"] for c in chair["proposals"][0]["comments"]] == ["Stöd förslaget."]
    assert chair["proposals"][0]["may_record"] is True

    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Ja."})
    late = api(
        "POST",
        "/steering/comments",
        "styrgrupp.nk",
        json={"subject_type": "proposal", "subject_id": proposal, "comment": "För sent."},
    )
    assert late.status_code == 409 and late.json["code"] == "error.steering.not_awaiting"
    assert api("GET", "/steering/awaiting", "styrgrupp.nk").json["proposals"] == []
