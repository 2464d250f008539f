"""Every page for every role: allowed, the 403 page, or a redirect to sign-in. The matrix lists the
app's routes (the token API aside) and fails on one it does not know, so a new page needs a row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from planflow.db import Database
from planflow.models import ProcessInstance
from tests.services.chain import Chain
from tests.web.conftest import login, post

ROLES = [
    "anonymous",
    "anna.nilsson",
    "lead1",
    "processledare",
    "ordforande",
    "styrgrupp.nk",
    "kommunstyrelsen",
    "naringslivsradet",
    "admin",
]
EVERYONE = set(ROLES) - {"anonymous"}
MUNICIPAL = EVERYONE - {"naringslivsradet"}
STEERING = {"processledare", "ordforande", "styrgrupp.nk", "kommunstyrelsen", "admin"}
PROPOSERS = {"lead1"}  # focus-area leads and working groups, in their own areas
DIALOGUE = {"naringslivsradet"}
PLAN_KEEPERS = {"processledare", "admin"}  # UseCase.EDIT_PLAN, START_ANNUAL_REPORT and ISSUE_REPORT

# rule -> (method, url template, who is allowed); everyone else signed in gets the 403 page.
MATRIX: dict[str, tuple[str, str, set[str]]] = {
    "/": ("GET", "/", EVERYONE),
    "/inbox": ("GET", "/inbox", EVERYONE),
    "/notices": ("GET", "/notices", EVERYONE),  # each person's own
    "/notices/read": ("POST", "/notices/read", EVERYONE),
    "/notices/delivery": ("POST", "/notices/delivery", EVERYONE),  # 400: no choice sent
    "/account": ("GET", "/account", EVERYONE),  # each person's own sessions
    "/account/sessions/end": ("POST", "/account/sessions/end", EVERYONE),  # ends only one's own
    "/account/sessions/end-others": ("POST", "/account/sessions/end-others", EVERYONE),
    "/tasks/<task_id>": ("GET", "/tasks/{task}", {"anna.nilsson"}),
    "/activities/<code>": ("GET", "/activities/1.1.1", MUNICIPAL),
    "/cycles": ("GET", "/cycles", MUNICIPAL),
    "/cycles/<period>": ("GET", "/cycles/2026-Q4", MUNICIPAL),
    "/cycles/<period>/cancel": ("GET", "/cycles/2026-Q4/cancel", {"processledare", "admin"}),
    "/processes/<int:instance_id>": ("GET", "/processes/{instance}", MUNICIPAL),
    "/steering": ("GET", "/steering", STEERING),
    # the members and the chair (UseCase.COMMENT_AS_MEMBER); 400 for them: no subject named
    "/steering/comments": ("POST", "/steering/comments", {"ordforande", "styrgrupp.nk"}),
    "/audit": ("GET", "/audit", MUNICIPAL),
    "/audit.csv": ("GET", "/audit.csv", MUNICIPAL),
    "/admin": ("GET", "/admin", {"admin"}),
    "/admin/<action>": ("POST", "/admin/revoke_tokens", {"admin"}),
    "/admin/users/<username>/deactivate": ("GET", "/admin/users/anna.nilsson/deactivate", {"admin"}),
    "/reports/": ("GET", "/reports/", MUNICIPAL),
    "/reports/steering/<period>": ("GET", "/reports/steering/2026-Q4", MUNICIPAL),
    "/reports/annual/<int:year>": ("GET", "/reports/annual/2026", MUNICIPAL),
    "/reports/files/<kind>/<subject>.<fmt>": ("GET", "/reports/files/steering/2026-Q4.html", MUNICIPAL),
    "/proposals": ("GET", "/proposals", MUNICIPAL),
    "/proposals/new": ("GET", "/proposals/new", PROPOSERS),
    "/dialogue": ("GET", "/dialogue", DIALOGUE | {"processledare", "admin"}),  # the latter read it
    "/dialogue/<period>": ("GET", "/dialogue/2026-Q4", DIALOGUE | {"processledare", "admin"}),
    "/reports/annual": ("POST", "/reports/annual", PLAN_KEEPERS),
    # a blank number clears it: 302 for the allowed
    "/reports/case-number/<kind>/<subject>": ("POST", "/reports/case-number/steering/2026-Q4", PLAN_KEEPERS),
    "/reports/issue/<kind>/<subject>": ("GET", "/reports/issue/steering/2026-Q4", PLAN_KEEPERS),
    # 404 for the allowed: the period has no decision
    "/reports/steering/<period>/decisions/<int:decision_id>/case-number": (
        "POST",
        "/reports/steering/2026-Q4/decisions/1/case-number",
        PLAN_KEEPERS,
    ),
    "/reports/issued/<int:report_id>": ("GET", "/reports/issued/1", MUNICIPAL),  # 404: none issued
    "/admin/plan": ("GET", "/admin/plan", PLAN_KEEPERS),
    "/admin/plan.xlsx": ("GET", "/admin/plan.xlsx", PLAN_KEEPERS),
    "/admin/plan/import": ("POST", "/admin/plan/import", PLAN_KEEPERS),
    "/admin/activities/<code>": ("GET", "/admin/activities/1.1.1", PLAN_KEEPERS),
    "/tillganglighet": ("GET", "/tillganglighet", EVERYONE),
    # in English for a visitor; a reader with a language of their own is sent to /tillganglighet
    "/accessibility": ("GET", "/accessibility", EVERYONE),
}
# Pages a visitor reads without signing in: the plan as adopted (a public document) and the
# accessibility statement (the law asks that anyone can read it).
PUBLIC = {"/", "/tillganglighet", "/accessibility"}
# Every page links the accessibility statement from its footer (lag 2018:1937: from every page).
STATEMENT_LINK = '<a href="/tillganglighet">'
# Routes whose answer does not depend on a role (sign-in itself) or that act on a task, checked by
# the tests of the inbox and the task form.
OUTSIDE = {
    "/login",
    "/logout",
    "/login/oidc/<name>",  # sign-in through a provider: tests/browser/test_oidc.py
    "/login/oidc/<name>/callback",
    "/language",
    "/static/<path:filename>",
    "/tasks/<task_id>/claim",
    "/tasks/<task_id>/unclaim",
    "/reviews/accept",  # acts on review tasks, each checked: tests/web/api/test_review_list.py
    "/calendar/<secret>.ics",  # authenticated by its secret: tests/web/test_calendar.py
    "/mail/unsubscribe/<token>",  # authenticated by its signed token: tests/web/test_mail_headers.py
    "/password/<token>",  # authenticated by its signed, one-time token: tests/web/test_admin_people.py
    "/reports/issued/<int:report_id>.<fmt>",  # an issued report: tests/reports
    # SAML sign-in, metadata and single logout, before any role: tests/web/test_saml.py
    "/login/saml/<name>",
    "/saml/<name>/acs",
    "/saml/<name>/metadata",
    "/saml/<name>/slo",
}
POSTS = [
    ("POST", "/proposals/new", PROPOSERS),
    ("POST", "/dialogue/2026-Q4", DIALOGUE),  # 409 for the allowed: the dialogue is not open
    ("POST", "/reports/issue/steering/2026-Q4", PLAN_KEEPERS),  # 409 for the allowed: no number confirmed
    ("POST", "/cycles/2026-Q4/cancel", {"processledare", "admin"}),  # 400: no reason given
    # People on the web (issue 20): 400 or 404 for the admin, "nobody" being no one
    ("POST", "/admin/invite", {"admin"}),
    ("POST", "/admin/send_link", {"admin"}),
    ("POST", "/admin/end_substitution", {"admin"}),
    ("POST", "/admin/end_token", {"admin"}),
    ("POST", "/admin/grant", {"admin"}),
    ("POST", "/admin/owner", {"admin"}),
    ("POST", "/admin/reassign", {"admin"}),
]
POST_ONLY = {
    "/cycles": ("POST", "/cycles", {"processledare", "admin"}),
    "/admin/activities/<code>": ("POST", "/admin/activities/1.1.1", PLAN_KEEPERS),
}


def test_the_matrix_knows_every_page(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules() if not rule.endpoint.startswith("api.")}
    assert rules - set(MATRIX) - OUTSIDE == set(), "a page without a row in the role matrix"
    assert set(MATRIX) - rules == set()


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app: Flask, web: Database, role: str) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    with web.transaction() as session:
        instance = session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id).limit(1))
    client = app.test_client()
    if role != "anonymous":
        assert login(client, role).status_code == 302
    cases = [*MATRIX.values(), *POST_ONLY.values(), *POSTS]
    pages = 0
    for method, template, allowed in cases:
        url = template.format(task=task.id, instance=instance)
        if method == "GET":
            response = client.get(url)
        else:
            data = {"username": "nobody"} if "admin" in url else {"period": "", "deadline": ""}
            response = post(client, url, data, "/inbox") if role != "anonymous" else client.post(url)
        if role == "anonymous" and template in PUBLIC:
            assert response.status_code == 200, url
        elif role == "anonymous":
            expected = "login" if method == "GET" else "refused"
            if expected == "login":
                assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
            else:
                assert response.status_code in (302, 400), url
        elif role in allowed:
            assert response.status_code in (200, 302, 400, 404, 409), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert "Du har inte behörighet" in response.get_data(as_text=True)
        if _is_page(response):
            assert STATEMENT_LINK in response.get_data(as_text=True), (role, method, url)
            pages += 1
    assert pages >= (len(PUBLIC) if role == "anonymous" else len(MATRIX) // 2), pages


def _is_page(response: TestResponse) -> bool:
    """An answer shown as a page: HTML, neither a redirect nor a file to save (a report's HTML)."""
    saved = response.headers.get("Content-Disposition", "").startswith("attachment")
    moved = 300 <= response.status_code < 400
    return response.mimetype == "text/html" and not moved and not saved


def test_signed_in_pages_show_only_the_menu_the_reader_may_use(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    owner = signed_in("anna.nilsson").get("/inbox").get_data(as_text=True)
    assert 'href="/admin"' not in owner and 'href="/steering"' not in owner
    admin = signed_in("admin").get("/inbox").get_data(as_text=True)
    assert 'href="/admin"' in admin
