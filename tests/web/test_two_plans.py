"""Two plans whose codes overlap (tests/web/two_plans.py): every page and API route reached with
plan B's slug, codes and objects shows plan B's, never plan A's. The walk lists the app's GET routes
from its url_map and fails on one it does not know, so a new route needs a row here: a visit, or
a reason why no plan is involved."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity, Plan
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.web.conftest import post
from tests.web.two_plans import (
    B_ACTIVITIES,
    B_ADDED,
    B_AREAS,
    B_FEEDBACK,
    B_INTERVENTIONS,
    B_LEAD,
    B_PENDING,
    B_PERIOD,
    B_TITLE,
    B,
    TwoPlans,
    build,
)

B_111 = B_ACTIVITIES["1.1.1"]

# rule -> (address with plan B's slug and objects, who reads it, what of plan B's it must show).
WALK: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "/": ("/?plan={b}", "processledare", (B_TITLE, *B_ACTIVITIES.values())),
    "/activities/<code>": (
        "/activities/1.1.1?plan={b}",
        "processledare",
        (B_111, "Leverantören drog sig ur."),
    ),
    "/cycles": ("/cycles?plan={b}", "processledare", (f'href="/cycles/{B_PERIOD}?plan={B}"',)),
    "/cycles/<period>": ("/cycles/{period}?plan={b}", "processledare", tuple(B_AREAS.values())),
    "/cycles/<period>/cancel": ("/cycles/{period}/cancel?plan={b}", "processledare", (B_TITLE,)),
    "/steering": ("/steering?plan={b}", "ordforande", (B_TITLE, B_111, f'href="/activities/1.1.1?plan={B}"')),
    "/proposals": ("/proposals?plan={b}", "processledare", (B_PENDING, B_ADDED)),
    "/proposals/new": ("/proposals/new?plan={b}", B_LEAD, (B_INTERVENTIONS["1.1"],)),
    "/dialogue": ("/dialogue?plan={b}", "naringslivsradet", (B_FEEDBACK,)),
    "/dialogue/<period>": ("/dialogue/{period}?plan={b}", "naringslivsradet", (B_FEEDBACK,)),
    "/reports/": ("/reports/?plan={b}", "processledare", (B_TITLE, f"/reports/steering/{B_PERIOD}?plan={B}")),
    "/reports/steering/<period>": ("/reports/steering/{period}?plan={b}", "processledare", (B_111,)),
    "/reports/annual/<int:year>": ("/reports/annual/2026?plan={b}", "processledare", (B_TITLE,)),
    "/reports/issue/<kind>/<subject>": (
        "/reports/issue/steering/{period}?plan={b}",
        "processledare",
        (B_TITLE,),
    ),
    "/reports/files/<kind>/<subject>.<fmt>": (
        "/reports/files/steering/{period}.html?plan={b}",
        "processledare",
        (B_111,),
    ),
    "/admin/plan": ("/admin/plan?plan={b}", "processledare", (B_TITLE, B_ADDED)),
    "/admin/plan.xlsx": ("/admin/plan.xlsx?plan={b}", "processledare", tuple(B_ACTIVITIES.values())),
    "/admin/activities/<code>": ("/admin/activities/1.1.1?plan={b}", "processledare", (B_111,)),
    "/tasks/<task_id>": ("/tasks/{meeting}", "ordforande", (B_111,)),  # the agenda: plan B's queue
    "/calendar/<secret>.ics": (
        "/calendar/{secret}.ics?plan={b}",
        None,
        ("meeting-{meeting}", "task-{decision}"),
    ),
    "/api/v1/plan": ("/api/v1/plan?plan={b}", "processledare", (B_TITLE, *B_ACTIVITIES.values())),
    "/api/v1/activities/<code>": ("/api/v1/activities/1.1.1?plan={b}", "processledare", (B_111,)),
    "/api/v1/cycles/<period>": ("/api/v1/cycles/{period}?plan={b}", "processledare", (B_PERIOD,)),
    "/api/v1/deviations": ("/api/v1/deviations?plan={b}", "ordforande", ("Leverantören drog sig ur.",)),
    "/api/v1/steering/awaiting": (
        "/api/v1/steering/awaiting?plan={b}",
        "styrgrupp.nk",
        ("Leverantören drog sig ur.",),
    ),
    "/api/v1/tasks/<task_id>": ("/api/v1/tasks/{decision}", "ordforande", (B_111,)),
}
# GET routes no plan is involved in, and why.
NO_PLAN = {
    "/login": "signing in",
    "/tillganglighet": "the accessibility statement, of the whole service",
    "/accessibility": "the accessibility statement in English, of the whole service",
    "/login/oidc/<name>": "signing in through an OpenID Connect provider",
    "/login/oidc/<name>/callback": "the provider's answer to a sign-in",
    "/login/saml/<name>": "signing in at a SAML identity provider",
    "/saml/<name>/metadata": "planflow's SAML service-provider metadata",
    "/saml/<name>/slo": "the end of a SAML single logout",
    "/static/<path:filename>": "the style sheets and scripts",
    "/inbox": "a person's tasks in every plan; each leads to its own task page (walked above)",
    "/reviews/accept": "reviews picked in the inbox by their task ids, each shown with its own activity",
    "/notices": "a person's notices from every plan, worded when read",
    "/account": "a person's own sessions, in no plan",
    "/admin": "people and their roles, in every plan",
    "/admin/users/<username>/deactivate": "a person and what they hold, in every plan",
    "/audit": "the audit trail of the whole installation (h-audit: an activity filter is a code)",
    "/audit.csv": "the audit trail of the whole installation, as a file",
    "/mail/unsubscribe/<token>": "one person's mail, by the signed token in it",
    "/reports/issued/<int:report_id>.<fmt>": "an issued file, named by its own id",
    "/processes/<int:instance_id>": "a process by its own id: its diagram and the record it is about",
    "/reports/issued/<int:report_id>": "an issued report, named by its own id",
    "/api/v1/reports/issued/<int:report_id>": "an issued report, named by its own id",
    "/api/v1/me": "the caller and its roles in every plan",
    "/api/v1/inbox": "the caller's tasks in every plan",
    "/api/v1/notices": "the caller's notices from every plan",
    "/api/v1/users": "people and their roles, in every plan",
    "/api/v1/substitutes": "who stands in for whom",
    "/api/v1/tokens": "the API tokens of everyone, in every plan",
    "/api/v1/roles": "the roles of every plan, each named with its plan",
    "/password/<token>": "one person's password, by the signed token in the link",
    "/api/v1/audit": "the audit trail of the whole installation (h-audit)",
    "/api/v1/audit/head": "the audit chain's head",
    "/api/v1/audit/verify": "the audit chain's verification",
    "/api/v1/docs": "the API's reference page",
    "/api/v1/openapi.json": "the API's document",
}


def test_the_walk_knows_every_get_route(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    assert rules - set(WALK) - set(NO_PLAN) == set(), "a GET route the two-plan walk does not know"
    assert (set(WALK) | set(NO_PLAN)) - rules == set()


@pytest.fixture
def two(web: Database, tmp_path: Path) -> TwoPlans:
    return build(web, tmp_path)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """What a reader is shown: a page's HTML, an API's JSON (unescaped), a workbook's cells."""
    if response.mimetype == "application/json":
        return json.dumps(response.json, ensure_ascii=False)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    return response.get_data(as_text=True)


def test_every_route_reached_with_plan_bs_codes_shows_plan_b(
    app: Flask, two: TwoPlans, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    """Plan A's titles of the codes both plans have must not show on plan B's pages (they would, as
    they did, where a page took the default plan: /activities/1.1.1 opened plan A's activity)."""
    tokens: dict[str, str] = {}
    clients: dict[str, FlaskClient] = {}
    values = {
        "b": B,
        "period": B_PERIOD,
        "meeting": two.b_meeting_task,
        "decision": two.b_decision_task,
        "secret": two.calendar_secret,
    }
    plan_a_words = [two.a_titles[code] for code in B_ACTIVITIES]
    wrong = []
    for rule, (template, user, shows) in WALK.items():
        url = template.format(**values)
        if url.startswith("/api/"):
            assert user is not None
            if user not in tokens:
                with web.transaction() as session:
                    tokens[user] = people.issue_token(session, OPERATOR_ACTOR, user)
            response = app.test_client().get(url, headers={"Authorization": f"Bearer {tokens[user]}"})
        else:
            if user is not None and user not in clients:
                clients[user] = signed_in(user)
            response = (clients[user] if user else app.test_client()).get(url)
        if response.status_code != 200:
            wrong.append((rule, url, response.status_code))
            continue
        text = _text(response)
        missing = [word for word in shows if word.format(**values) not in text]
        shown_a = [word for word in plan_a_words if word in text]
        if missing or shown_a:
            wrong.append((rule, url, {"missing": missing, "plan A's": shown_a}))
    assert wrong == [], "\n".join(map(str, wrong))


def test_an_edit_on_plan_bs_activity_page_changes_plan_bs_activity(
    two: TwoPlans, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("processledare")
    path = f"/admin/activities/1.1.1?plan={B}"
    form = {
        "title": "Plan B: solceller, nu även på förskolor",
        "owner": "bodil.gren",
        "office": "",
        "starts_on": "",
        "ends_on": "",
    }
    saved = post(client, path, form, path)
    assert saved.status_code == 302 and saved.headers["Location"] == f"/activities/1.1.1?plan={B}"
    with web.reading() as session:
        titles = dict(
            session.execute(
                select(Plan.slug, Activity.title)
                .join(Plan, Plan.id == Activity.plan_id)
                .where(Activity.code == "1.1.1")
            ).all()
        )
    assert titles == {B: form["title"], two.a: two.a_titles["1.1.1"]}


def test_links_on_plan_bs_pages_lead_to_plan_b_and_the_default_plans_keep_their_addresses(
    two: TwoPlans, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("processledare")
    b_page = client.get(f"/?plan={B}").get_data(as_text=True)
    assert f'href="/activities/1.1.1?plan={B}"' in b_page and 'href="/activities/1.1.1"' not in b_page
    assert f'href="/steering?plan={B}"' in b_page and 'href="/inbox"' in b_page  # the menu stays in B
    a_page = client.get("/").get_data(as_text=True)
    assert 'href="/activities/1.1.1"' in a_page and f"?plan={B}" in a_page  # the plan list links to B
    assert two.a_titles["1.1.1"] in client.get("/activities/1.1.1").get_data(as_text=True)
    assert client.get("/activities/1.1.1?plan=no-such-plan").status_code == 404


def test_the_steering_page_shows_its_own_plans_meeting(
    two: TwoPlans, signed_in: Callable[[str], FlaskClient]
) -> None:
    """Plan B is at its steering meeting and plan A is not: the default plan's page says no meeting
    is planned, plan B's shows plan B's (it showed the first meeting of any plan on both)."""
    client = signed_in("ordforande")
    a_page = client.get("/steering").get_data(as_text=True)
    b_page = client.get(f"/steering?plan={B}").get_data(as_text=True)
    assert "Inget möte är öppet just nu." in a_page and f"/tasks/{two.b_meeting_task}" not in a_page
    assert f'href="/tasks/{two.b_meeting_task}"' in b_page
    assert two.a_titles["1.1.1"] in a_page and B_111 not in a_page


def test_a_meeting_tasks_page_shows_the_queue_of_the_meetings_plan(
    two: TwoPlans, signed_in: Callable[[str], FlaskClient]
) -> None:
    page = signed_in("ordforande").get(f"/tasks/{two.b_meeting_task}").get_data(as_text=True)
    queue = page.split('id="ctx-h"')[1]
    assert B_111 in queue and two.a_titles["1.1.1"] not in queue


def test_plan_bs_activity_tells_plan_bs_story_only(
    app: Flask, two: TwoPlans, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    """An audit event names an activity by its code: plan A's 1.1.1 (reported by its owner,
    accepted by lead1) must not be in the story of plan B's 1.1.1, on the page or in the API."""
    with web.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "processledare")
    story = (
        app.test_client()
        .get(f"/api/v1/activities/1.1.1?plan={B}", headers={"Authorization": f"Bearer {token}"})
        .json
    )
    actors = {e["actor"] for e in story["events"]}
    assert {"bodil.gren", B_LEAD, "processledare"} <= actors and "lead1" not in actors
    assert {e["action"] for e in story["events"]} >= {
        "status.reported",
        "status.accepted",
        "activity.updated",
    }
    page = signed_in("processledare").get(f"/activities/1.1.1?plan={B}").get_data(as_text=True)
    events = page.split('id="ev-h"')[1]
    assert "bodil.gren" in events and "lead1" not in events
    a_story = signed_in("processledare").get("/activities/1.1.1").get_data(as_text=True).split('id="ev-h"')[1]
    assert "lead1" in a_story and "bodil.gren" not in a_story
