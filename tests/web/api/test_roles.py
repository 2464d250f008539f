"""The role matrix: every role × every route of /api/v1 answers what the authority table says,
and no route is left out (the test fails on a route it does not know)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from planflow.services.authority import people
from planflow.services.chain import annual
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

from ...services.chain import Chain
from .conftest import START, Api

TODAY = START.date()
ROLES = {
    "owner": "anna.nilsson",  # owns 1.1.1, whose report task the task routes use
    "lead": "lead1",  # lead of the activity's focus area
    "other_lead": "lead2",
    "process_leader": "processledare",
    "steering": "styrgrupp.nk",
    "chair": "ordforande",
    "board": "kommunstyrelsen",
    "dialogue": "naringslivsradet",
    "admin": "admin",
    "sub_in": "vikarie.in",  # stands in for the owner today
    "sub_out": "vikarie.out",  # stood in for the owner until yesterday
    "inactive": "gone",  # had a token, then was deactivated
    "anonymous": None,
}
EVERYONE = set(ROLES) - {"inactive", "anonymous"}
MUNICIPAL = EVERYONE - {"dialogue"}
STEERING_QUEUE = {"process_leader", "steering", "chair", "board", "admin"}
ON_THE_TASK = {"owner", "sub_in"}


def allowed(who: set[str], yes: int, no: int = 403) -> Callable[[str], int]:
    return lambda role: yes if role in who else no


# (method, rule) -> (path, body, role -> status). The statuses past the authority are what the
# service answers next: 400 for the deliberately invalid bodies, 409 for what already exists.
CASES: dict[tuple[str, str], tuple[str, object, Callable[[str], int]]] = {
    ("GET", "/plan"): ("/plan", None, allowed(EVERYONE, 200)),
    ("GET", "/activities/<code>"): ("/activities/1.1.1", None, allowed(MUNICIPAL, 200)),
    ("PATCH", "/activities/<code>"): (
        "/activities/1.1.1",
        {"version": "0000000000000000", "title": "Ny rubrik"},  # a stale version
        allowed({"process_leader", "admin"}, 409),
    ),
    ("PUT", "/activities/<code>/owner"): (
        "/activities/1.1.1/owner",
        {"owner": "anna.nilsson"},
        allowed({"process_leader", "admin"}, 200),  # an edit of the plan
    ),
    ("POST", "/cycles"): (
        "/cycles",
        {"period": "2027-Q1", "deadline": "2020-01-01"},
        allowed({"process_leader", "admin"}, 400),
    ),
    ("GET", "/cycles/<period>"): ("/cycles/2026-Q4", None, allowed(MUNICIPAL, 200)),
    ("POST", "/cycles/<period>/cancel"): (
        "/cycles/2026-Q4/cancel",
        {"reason": "  "},  # blank: refused past the authority, nothing cancelled
        allowed({"process_leader", "admin"}, 400),
    ),
    ("GET", "/inbox"): ("/inbox", None, allowed(EVERYONE, 200)),
    ("GET", "/tasks/<task_id>"): ("/tasks/{task}", None, allowed(ON_THE_TASK, 200)),
    ("POST", "/tasks/<task_id>/complete"): (
        "/tasks/{task}/complete",
        {"data": {"status": "purple"}},
        allowed(ON_THE_TASK, 400),
    ),
    ("POST", "/tasks/<task_id>/draft"): (
        "/tasks/{task}/draft",
        {"data": {"status": "purple"}},
        allowed(ON_THE_TASK, 400),
    ),
    ("POST", "/tasks/<task_id>/claim"): ("/tasks/{task}/claim", None, allowed(ON_THE_TASK, 204)),
    ("POST", "/tasks/<task_id>/unclaim"): ("/tasks/{task}/unclaim", None, allowed(ON_THE_TASK, 204)),
    ("POST", "/tasks/<task_id>/reassign"): (
        "/tasks/{task}/reassign",
        {"to": None, "reason": "Tillbaka."},
        allowed({"admin"}, 204),
    ),
    ("POST", "/reviews/accept"): (  # open to everyone signed in; each task is checked on its own
        "/reviews/accept",
        {"tasks": ["00000000-0000-4000-8000-000000000000"]},  # no such task: refused in the answer
        allowed(EVERYONE, 200),
    ),
    ("POST", "/proposals"): (
        "/proposals",
        {
            "data": {
                "title": "Ny aktivitet",
                "intervention_area": "1.1",
                "owner": "anna.nilsson",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Behövs.",
            }
        },
        allowed({"lead"}, 201),
    ),
    ("POST", "/dialogue-feedback"): (
        "/dialogue-feedback",
        {"period": "2026-Q4", "data": {"feedback": "Bra."}},
        allowed({"dialogue"}, 409),
    ),
    ("GET", "/deviations"): ("/deviations", None, allowed(STEERING_QUEUE, 200)),
    ("GET", "/steering/awaiting"): ("/steering/awaiting", None, allowed(STEERING_QUEUE, 200)),
    ("POST", "/steering/comments"): (
        "/steering/comments",
        {"subject_type": "annual_report", "subject_id": 999999, "comment": "Bra."},
        allowed({"steering", "chair"}, 404),  # the members and the chair; no such report
    ),
    ("POST", "/annual-reports"): (
        "/annual-reports",
        {"year": 2026},
        allowed({"process_leader", "admin"}, 409),
    ),
    ("POST", "/reports/issued"): (
        "/reports/issued",
        {"kind": "annual", "subject": "1999"},  # a year out of range: refused past the authority
        allowed({"process_leader", "admin"}, 400),
    ),
    ("GET", "/reports/issued/<int:report_id>"): (
        "/reports/issued/999999",
        None,
        allowed(MUNICIPAL, 404),
    ),
    ("GET", "/audit"): ("/audit", None, allowed(MUNICIPAL, 200)),
    ("GET", "/audit/verify"): ("/audit/verify", None, allowed(MUNICIPAL, 200)),
    ("GET", "/audit/head"): ("/audit/head", None, allowed(MUNICIPAL, 200)),
    ("GET", "/me"): ("/me", None, allowed(EVERYONE, 200)),
    ("GET", "/users"): ("/users", None, allowed({"admin"}, 200)),
    ("POST", "/users"): (
        "/users",
        {"username": "ny.person", "display_name": "Ny", "email": "ny@example.org"},
        allowed({"admin"}, 201),
    ),
    ("POST", "/users/<username>/roles"): (
        "/users/erik.berg/roles",
        {"role": "working_group:5"},
        allowed({"admin"}, 204),
    ),
    ("DELETE", "/users/<username>/roles"): (
        "/users/erik.berg/roles?role=working_group:5",
        None,
        allowed({"admin"}, 200),
    ),
    ("GET", "/substitutes"): ("/substitutes", None, allowed({"admin"}, 200)),
    ("POST", "/substitutes"): (
        "/substitutes",
        {
            "absent": "erik.berg",
            "substitute": "sara.lind",
            "starts_on": "2030-01-01",
            "ends_on": "2030-01-02",
        },
        allowed({"admin"}, 201),
    ),
    ("DELETE", "/substitutes/<int:substitution_id>"): ("/substitutes/999999", None, allowed({"admin"}, 404)),
    ("GET", "/roles"): ("/roles", None, allowed({"admin"}, 200)),
    ("GET", "/tokens"): ("/tokens", None, allowed({"admin"}, 200)),
    ("DELETE", "/tokens/<int:token_id>"): ("/tokens/999999", None, allowed({"admin"}, 404)),
    ("POST", "/users/<username>/password-link"): (
        "/users/erik.berg/password-link",
        {"kind": "reset"},
        allowed({"admin"}, 204),
    ),
    ("GET", "/notices"): ("/notices", None, allowed(EVERYONE, 200)),  # each their own
    ("POST", "/notices/read"): ("/notices/read", {}, allowed(EVERYONE, 200)),
    ("PUT", "/notices/delivery"): ("/notices/delivery", {"delivery": "immediate"}, allowed(EVERYONE, 204)),
    ("GET", "/openapi.json"): ("/openapi.json", None, lambda role: 200),
    ("GET", "/docs"): ("/docs", None, lambda role: 200),
}
PUBLIC = {("GET", "/openapi.json"), ("GET", "/docs")}


@pytest.fixture
def matrix(api: Api, chain: Chain) -> str:
    """The owner's report task of 1.1.1; the substitutes; an annual report of 2026; a user who is
    deactivated after getting a token."""
    with api.db.transaction() as session:
        operator = OPERATOR_ACTOR
        for name in ("vikarie.in", "vikarie.out", "gone"):
            people.add_user(session, operator, name, name, f"{name}@example.org")
        people.add_substitute(
            session,
            operator,
            "anna.nilsson",
            "vikarie.in",
            TODAY - timedelta(days=1),
            TODAY + timedelta(days=5),
        )
        people.add_substitute(
            session,
            operator,
            "anna.nilsson",
            "vikarie.out",
            TODAY - timedelta(days=9),
            TODAY - timedelta(days=1),
        )
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    for name in ("vikarie.in", "vikarie.out", "gone"):
        api.token(name)
    with api.db.transaction() as session:
        people.set_active(session, OPERATOR_ACTOR, "gone", False)
    return chain.task("anna.nilsson", "report_status", "1.1.1").id


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    routes = {
        (method, rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes - CASES.keys() == set(), "a route the matrix does not know"
    assert CASES.keys() - routes == set(), "a route the matrix knows that is gone"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_on_every_route_gets_what_the_authority_says(api: Api, matrix: str, role: str) -> None:
    user = ROLES[role]
    got, expected = {}, {}
    for number, (key, (path, body, rule)) in enumerate(CASES.items()):
        # Each from its own address: a deactivated user's token is a bad token, and more than a few
        # from one address would be slowed down (429), which is not what this test is about.
        address = {"REMOTE_ADDR": f"10.0.{number}.1"}
        response = api(key[0], path.format(task=matrix), user, json=body, environ_base=address)
        got[key] = response.status_code
        expected[key] = rule(role) if user is not None and role != "inactive" or key in PUBLIC else 401
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", key
    assert got == expected


def test_no_token_and_a_bad_token_are_401_with_a_challenge(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer pf_nope"}, {"Authorization": "Basic abc"}):
        response = api.client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json is not None and response.json["status"] == 401
