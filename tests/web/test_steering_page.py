"""The steering page and the meeting's form as the group uses them: a returned deviation is shown
as returned, never as "nothing awaits"; the meeting's form refuses to close while it is open and
offers to leave it open; members see proposals and the annual report awaiting the group and leave
comments through the page's form (errors beside it, CSRF, 403 for others); a member's empty inbox
says what awaits the group."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
from tests.services.chain import START, Chain
from tests.services.steering import (
    RETURNED,
    annual_report_compiled,
    proposed_and_forwarded,
    recommended_and_agreed,
    reported_with_a_red,
    returned_by_the_chair,
    to_the_meeting,
)
from tests.web.conftest import csrf_token, post


def _chain(web: Database) -> Chain:
    clock.set_now(START)
    chain = Chain(web)
    chain.start_cycle()
    return chain


def test_a_returned_deviation_is_shown_as_returned_and_the_meeting_form_refuses_to_close(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = _chain(web)
    returned_by_the_chair(chain)
    meeting = to_the_meeting(chain)
    chair = signed_in("ordforande")
    page = chair.get("/steering").get_data(as_text=True)
    assert "Inga avvikelser väntar på beslut" not in page
    assert "Inget väntar på styrgruppens beslut just nu." in page and "1 återsända avvikelser" in page
    returned = re.search(r'<section aria-labelledby="returned-h".*?</section>', page, re.S)
    assert returned and RETURNED in returned.group(0) and "Räkna på kostnaden först." in returned.group(0)

    form = chair.get(f"/tasks/{meeting}").get_data(as_text=True)
    assert f'type="checkbox" name="left_open" value="{RETURNED}"' in form
    refused = post(chair, f"/tasks/{meeting}", {"notes": "4.2.3 återsänd."}, f"/tasks/{meeting}")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "4.2.3 (återsänd till processledaren)" in html and 'id="e-left_open"' in html
    assert "4.2.3 återsänd." in html  # what was typed stays

    token = csrf_token(chair, f"/tasks/{meeting}")
    closed = chair.post(
        f"/tasks/{meeting}",
        data={"notes": "Noterat.", "left_open": RETURNED, "csrf_token": token},
    )
    assert closed.status_code == 302
    report = chair.get("/reports/steering/2026-Q4").get_data(as_text=True)
    assert "Lämnade öppna till nästa möte" in report and "Lämnad öppen till nästa möte" in report


def test_members_see_what_awaits_and_comment_through_the_page(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = _chain(web)
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    annual_report_compiled(chain)
    member = signed_in("styrgrupp.nk")
    page = member.get("/steering").get_data(as_text=True)
    awaiting = re.search(r'<section aria-labelledby="awaiting-h".*?</section>', page, re.S)
    assert awaiting, page
    shown = awaiting.group(0)
    assert 'data-awaiting="3"' in shown
    assert RETURNED in shown and "Lokalguide för nyetablerade företag" in shown
    assert "Efterfrågat i Näringslivsrådet." in shown and "Johan Ek" in shown
    assert "Årsrapport 2026" in shown and "Året i korthet." in shown
    assert shown.count('name="comment"') == 3 and "Registrera styrgruppens beslut" not in shown
    proposal = re.search(r'data-awaiting-proposal="(\d+)"', shown)
    assert proposal
    subject = {"subject_type": "proposal", "subject_id": proposal.group(1)}

    blank = post(member, "/steering/comments", {**subject, "comment": "  "}, "/steering")
    html = blank.get_data(as_text=True)
    assert blank.status_code == 400 and 'class="error-summary"' in html
    assert f'id="e-comment-proposal-{proposal.group(1)}"' in html
    said = post(member, "/steering/comments", {**subject, "comment": "Stöd förslaget."}, "/steering")
    assert said.status_code == 302 and said.headers["Location"].endswith(f"#c-proposal-{proposal.group(1)}")
    chair = signed_in("ordforande").get("/steering").get_data(as_text=True)
    assert "Stöd förslaget." in chair and "Näringslivschef" in chair
    assert chair.count("Registrera styrgruppens beslut") >= 3

    owner = signed_in("anna.nilsson")
    assert post(owner, "/steering/comments", {**subject, "comment": "Får jag?"}).status_code == 403
    leader = signed_in("processledare")
    assert post(leader, "/steering/comments", {**subject, "comment": "Får jag?"}).status_code == 403
    leader_page = leader.get("/steering").get_data(as_text=True)
    assert "Stöd förslaget." in leader_page and 'name="comment"' not in leader_page

    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Ja."})
    late = post(member, "/steering/comments", {**subject, "comment": "För sent."}, "/steering")
    assert late.status_code == 409 and "väntar inte på styrgruppens beslut" in late.get_data(as_text=True)


def test_a_members_empty_inbox_says_what_awaits_the_group(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = _chain(web)
    member = signed_in("styrgrupp.nk")
    assert "Väntar på styrgruppen" not in member.get("/inbox").get_data(as_text=True)
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    inbox = member.get("/inbox").get_data(as_text=True)
    assert "Du har inga uppgifter just nu" in inbox and "Väntar på styrgruppen" in inbox
    assert "1 avvikelser, 1 förslag och 0 årsrapport(er)" in inbox
    assert 'href="/steering#awaiting"' in inbox
    owner = signed_in("anna.nilsson").get("/inbox").get_data(as_text=True)
    assert "Väntar på styrgruppen" not in owner
