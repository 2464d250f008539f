"""The audit trail's questions get one answer wherever they are asked: which events a search finds
(the audit page and GET /audit), an activity's events (its page, GET /activities/{code} and the
search by activity), and whether the trail is intact (`planflow audit verify`, the audit page and
GET /audit/verify, with the same key)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import delete, select, text

from planflow import audit_keys, clock
from planflow.db import Database
from planflow.models import AuditEvent, AuditHead
from planflow.services.authority import people
from planflow.services.plan import plans
from planflow.services.records import audit, checkpoints, trail_check
from planflow.services.records.audit import SYSTEM_ACTOR, Actor

from ...conftest import Cli
from ...services.chain import Chain
from .conftest import Api

SUBSTITUTE = "lead3"  # acts for lead1, who is away
LATE = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # already 3 November in Stockholm (00:30)
ROW = re.compile(r"<tr><td>(\d+)</td>")
NEXT = re.compile(r'rel="next" href="[^"]*cursor=(\d+)')


def _deviation_decided_with_a_substitute(chain: Chain) -> None:
    """1.4.1 reported red, accepted by lead1's substitute; the recommendation returned once, then
    agreed and decided; at the end, late in the evening (UTC), 1.1.1 reported green."""
    with chain.db.transaction() as session:
        admin = Actor(people.get_user(session, "admin"))
        people.add_substitute(session, admin, "lead1", SUBSTITUTE, date(2026, 11, 1), None)
    data = {"status": "red", "comment": "Lokalen saknas.", "cause": "Ingen lokal."}
    chain.do(chain.owner_of("1.4.1"), "report_status", data, "1.4.1")
    chain.do(SUBSTITUTE, "review_report", {"outcome": "accept"}, "1.4.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Hyr en lokal."}, "1.4.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "return", "comment": "För dyrt."}, "1.4.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Låna en lokal."}, "1.4.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.4.1")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Rimligt."}, "1.4.1")
    clock.set_now(LATE)
    chain.report_and_accept("1.1.1", "green")


def _page(client: FlaskClient, params: dict[str, str]) -> tuple[list[int], str | None]:
    html = client.get("/audit?" + urlencode(params)).get_data(as_text=True)
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    after = NEXT.search(html)
    return [int(seq) for seq in ROW.findall(table)], after.group(1) if after else None


def _api(api: Api, params: dict[str, str]) -> tuple[list[int], str | None]:
    answer = api("GET", "/audit?" + urlencode({**params, "limit": 200}), "processledare")
    assert answer.status_code == 200, (params, answer.json)
    return [e["seq"] for e in answer.json["items"]], answer.json["next_cursor"]


def _seqs_of(api: Api, action: str) -> list[int]:
    return _api(api, {"action": action})[0]


SEARCHES = [
    {},
    {"activity": "1.4.1"},
    {"activity": "1.1.1"},
    {"actor": "lead1"},
    {"actor": SUBSTITUTE},
    {"action": "deviation.decided"},
    {"action": "deviation."},
    {"from": "2026-11-03"},
    {"to": "2026-11-02"},
    {"from": "2026-11-02", "to": "2026-11-02", "activity": "1.4.1"},
    {"activity": "1.4.1", "actor": "lead1"},
]


def test_the_audit_page_and_the_api_find_the_same_events_for_every_filter(
    chain: Chain, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    with chain.db.transaction() as session:  # enough events for a second page
        for n in range(150):
            audit.record(session, SYSTEM_ACTOR, "test.noted", "test", n)
    _deviation_decided_with_a_substitute(chain)
    client = signed_in("processledare")
    differ = {}
    for params in SEARCHES:
        page, api_says = _page(client, params), _api(api, params)
        if page[1] is not None:  # and the page after, from where each said it starts
            page, api_says = (
                (page, _page(client, {**params, "cursor": page[1]})),
                (
                    api_says,
                    _api(api, {**params, "cursor": api_says[1] or ""}),
                ),
            )
        if page != api_says:
            differ[urlencode(params) or "(none)"] = (page, api_says)
    assert differ == {}
    everything = _page(client, {})
    assert len(everything[0]) == 200 and everything[1]  # a full page and more to come
    items = api("GET", "/audit?limit=200", "processledare").json["items"]
    late = {e["seq"] for e in items if e["occurred_at"] == LATE.isoformat()}
    assert late and late <= set(_page(client, {"from": "2026-11-03"})[0])  # the local day, not UTC's
    assert not late & set(_page(client, {"to": "2026-11-02"})[0])


def test_the_audit_page_finds_what_a_substitute_did_for_the_actor(
    chain: Chain, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    _deviation_decided_with_a_substitute(chain)
    accepted = api("GET", "/audit?action=status.accepted&limit=200", "processledare").json["items"]
    (for_lead1,) = [e["seq"] for e in accepted if e["on_behalf_of"] == "lead1"]
    assert for_lead1 in _page(signed_in("processledare"), {"actor": "lead1"})[0]


def test_the_audit_page_by_activity_lists_its_deviations_recommendation_return_and_decision(
    chain: Chain, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    _deviation_decided_with_a_substitute(chain)
    wanted = {
        action: _seqs_of(api, action)
        for action in (
            "deviation.opened",
            "deviation.recommended",
            "deviation.recommendation_returned",
            "deviation.recommendation_agreed",
            "deviation.decided",
        )
    }
    shown = set(_page(signed_in("processledare"), {"activity": "1.4.1"})[0])
    assert {action: [s for s in seqs if s not in shown] for action, seqs in wanted.items()} == {
        action: [] for action in wanted
    }
    assert len(wanted["deviation.recommended"]) == 2 and wanted["deviation.recommendation_returned"]


def test_the_activity_page_and_the_api_list_the_same_events(
    chain: Chain, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    _deviation_decided_with_a_substitute(chain)
    with chain.db.transaction() as session:  # more events than a page once showed (100)
        plan = plans.get_plan(session).slug  # an event names an activity by code, and so its plan
        for n in range(150):
            audit.record(session, SYSTEM_ACTOR, "test.noted", "activity", "1.4.1", {"n": n, "plan": plan})
    client = signed_in("processledare")
    html = client.get("/activities/1.4.1").get_data(as_text=True)
    on_page = [int(seq) for seq in ROW.findall(html[html.index('id="ev-h"') :])]
    from_api = [e["seq"] for e in api("GET", "/activities/1.4.1", "processledare").json["events"]]
    assert on_page == from_api and len(on_page) > 150
    assert on_page == _api(api, {"activity": "1.4.1"})[0] == _page(client, {"activity": "1.4.1"})[0]


# Is the trail intact: the command line, the audit page and the API, with the installation's key.


def _installation_key(cli: Cli, tmp_path: Path) -> audit_keys.SigningKey:
    """The key in the app's instance folder (made now), which the command line is pointed at."""
    key = audit_keys.load_signing_key(None, tmp_path)
    cli.env["PLANFLOW_AUDIT_SIGNING_KEY"] = str(tmp_path / audit_keys.KEY_FILE)
    return key


def _rewrite_from(db: Database, seq: int) -> None:
    """Edit one event and recompute every later link and the head: the chain alone still holds."""
    with db.transaction() as session:
        previous = None
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
        ):
            if event.seq == seq:
                event.data = {"rewritten": True}
            else:
                event.prev_hash = previous
            event.hash = audit.event_hash(event)
            previous = event.hash
        head = session.get(AuditHead, 1)
        assert head is not None and previous is not None
        head.hash = previous


def _cut_after(db: Database, seq: int) -> None:
    """Delete the events after `seq` and move the head back: the chain alone still holds."""
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > seq))
        head, last = session.get(AuditHead, 1), session.get(AuditEvent, seq)
        assert head is not None and last is not None
        head.seq, head.hash = seq, last.hash


def _what_each_says(cli: Cli, client: FlaskClient, api: Api) -> dict[str, tuple[bool, int | None]]:
    """Intact or not, and the first bad event, as the command line, the page and the API say."""
    out = cli("--language", "en", "audit", "verify")
    cli_bad = re.search(r"broken at event (\d+)", out.output)
    html = client.get("/audit?verify=1").get_data(as_text=True)
    page_bad = re.search(r"Kedjan håller inte från händelse (\d+)", html)
    answer = api("GET", "/audit/verify", "processledare").json
    return {
        "cli": (out.exit_code == 0, int(cli_bad.group(1)) if cli_bad else None),
        "page": (
            "verify-ok" in html and "verify-bad" not in html,
            int(page_bad.group(1)) if page_bad else None,
        ),
        "api": (answer["intact"], answer["first_bad"]),
    }


@pytest.mark.parametrize("harm", ["none", "rewritten", "cut"])
def test_the_command_line_the_page_and_the_api_agree_whether_the_trail_is_intact(
    harm: str, cli: Cli, api: Api, signed_in: Callable[[str], FlaskClient], tmp_path: Path
) -> None:
    key = _installation_key(cli, tmp_path)
    with api.db.transaction() as session:
        anchored = checkpoints.make_checkpoint(session, key).seq
    with api.db.transaction() as session:  # a tail after the checkpoint
        for n in range(3):
            audit.record(session, SYSTEM_ACTOR, "test.noted", "test", n)
    client = signed_in("processledare")  # signing in is an event of its own, after the tail
    if harm == "rewritten":
        _rewrite_from(api.db, anchored - 2)  # before the checkpoint, every later link made to agree
    elif harm == "cut":
        _cut_after(api.db, anchored - 1)
    said = _what_each_says(cli, client, api)
    expected = {"none": (True, None), "rewritten": (False, anchored), "cut": (False, anchored)}[harm]
    assert said == {"cli": expected, "page": expected, "api": expected}


def test_the_api_calls_a_chain_rewritten_before_the_last_checkpoint_broken(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    key = _installation_key(cli, tmp_path)
    with api.db.transaction() as session:
        anchored = checkpoints.make_checkpoint(session, key).seq
    _rewrite_from(api.db, anchored - 1)
    answer = api("GET", "/audit/verify", "processledare").json
    assert (answer["intact"], answer["first_bad"], answer["chain_intact"]) == (False, anchored, True)
    assert f"event {anchored} does not match the checkpoint" in answer["problem"]


def test_without_the_key_all_three_say_the_checkpoints_were_not_checked(
    cli: Cli, api: Api, signed_in: Callable[[str], FlaskClient], tmp_path: Path
) -> None:
    key = _installation_key(cli, tmp_path)
    with api.db.transaction() as session:
        checkpoints.make_checkpoint(session, key)
    (tmp_path / audit_keys.KEY_FILE).unlink()  # the key is not where the configuration says
    client = signed_in("processledare")
    assert _what_each_says(cli, client, api) == {
        "cli": (False, None),
        "page": (False, None),
        "api": (False, None),
    }
    assert (
        "not shown intact: its 1 signed checkpoint(s) could not be checked"
        in cli("--language", "en", "audit", "verify").output
    )
    assert "1 signerade kontrollpunkt(er) kunde inte kontrolleras" in cli("audit", "verify").output
    assert "1 signerade kontrollpunkter kunde inte kontrolleras" in client.get("/audit?verify=1").get_data(
        as_text=True
    )
    answer = api("GET", "/audit/verify", "processledare").json
    assert (answer["verdict"], answer["key_available"], answer["chain_intact"]) == ("unchecked", False, True)
    assert not (tmp_path / audit_keys.KEY_FILE).exists()  # verifying never makes a key


def test_the_api_schemas_are_the_views_fields() -> None:
    from planflow.services.records.trail import AuditPage, EventView
    from planflow.services.views.plain import sent
    from planflow.web.api import schemas  # publishes the components
    from planflow.web.api.registry import COMPONENTS

    assert schemas.AUDIT_PAGE and schemas.VERIFICATION

    for name, view in (
        ("AuditEvent", EventView),
        ("AuditPage", AuditPage),
        ("DifferingRecord", trail_check.DifferingRecord),
    ):
        schema = COMPONENTS[name]
        assert list(schema["properties"]) == schema["required"] == [f.name for f in sent(view)], name
    # The trail's fields, then whether the records agree (trail_check.TrailCheck, flattened).
    records = ["records_agree", "records_differing", "differing_records"]
    verification = COMPONENTS["Verification"]
    assert list(verification["properties"]) == [f.name for f in sent(checkpoints.Integrity)] + records


def test_a_record_edited_with_sql_is_named_alike_by_the_command_line_the_page_and_the_api(
    chain: Chain, cli: Cli, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    _deviation_decided_with_a_substitute(chain)
    client = signed_in("processledare")
    assert cli("audit", "verify").exit_code == 0
    assert 'id="records-check">✓ Registren stämmer' in client.get("/audit?verify=1").get_data(as_text=True)
    assert api("GET", "/audit/verify", "processledare").json["records_agree"] is True
    with chain.db.transaction() as session:  # past every use case: the trail still holds
        session.execute(text("UPDATE deviation SET state = 'agreed' WHERE state = 'decided'"))

    refused = cli("--language", "en", "audit", "verify")
    named = re.findall(r"^  (deviation \d+): (.*)$", refused.output, re.MULTILINE)
    assert refused.exit_code != 0 and len(named) == 1
    assert "state is 'agreed'; its audit events say 'decided'" in named[0][1]
    answer = api("GET", "/audit/verify", "processledare").json
    assert (answer["intact"], answer["chain_intact"], answer["verdict"]) == (False, True, "unanchored")
    assert (answer["records_agree"], answer["records_differing"]) == (False, 1)
    assert [(r["subject"], r["detail"]) for r in answer["differing_records"]] == named
    html = client.get("/audit?verify=1").get_data(as_text=True)
    assert "Kedjan är hel" in html  # the chain itself holds; the records do not
    assert "1 uppgift(er) i registren stämmer inte med sina granskningshändelser" in html
    subject, detail = named[0]
    assert f"<li><code>{subject}</code>: {escape(detail)}</li>" in html
