"""Control characters are refused at the edge: a NUL (or another C0 or C1 control, or DEL) in any
route's path, a query value or key, a form field or key, an uploaded file's name, a header, or a
string of an API body answers 400 in the reader's language — never a 5xx (PostgreSQL's text cannot
hold a NUL). The sweep runs once per backend: one app, every route of the url map and every method
it takes, anonymous and signed in as people who between them reach every page and operation."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from planflow import i18n
from planflow.db import Database
from planflow.models import LoginFailure, ProcessInstance
from planflow.services.authority import people
from planflow.services.chain import instances
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.web import admin, control_characters, upkeep
from planflow.web.api import registry
from planflow.web.api.problems import MEDIA_TYPE
from tests.services.chain import Chain
from tests.web.api.test_roles import CASES as API_CASES
from tests.web.conftest import csrf_token, login, password_of, post

NUL = "\x00"
CODE = "error.input.control_character"
API = "/api/v1"
VARIABLE = re.compile(r"<(?:[^:<>]+:)?(\w+)>")
# A value for every path variable of the app's rules, so that each route is reached as it is used.
SAMPLES = {
    "code": ["1.1.1"],
    "action": [*admin.ACTIONS, "token"],
    "period": ["2026-Q4"],
    "task_id": ["{task}"],
    "instance_id": ["{instance}"],
    "year": ["2026"],
    "kind": ["steering"],
    "subject": ["2026-Q4"],
    "fmt": ["html"],
    "report_id": ["1"],
    "substitution_id": ["1"],
    "token_id": ["1"],
    "decision_id": ["1"],
    "secret": ["no-such-secret"],
    "token": ["1.no-such-token"],
    "username": ["erik.berg"],
    "filename": ["planflow.css"],
    "name": ["no-such-provider"],  # an OpenID Connect or SAML provider's name: none is configured here
}
# The query parameters the pages read (the API's come from its declared operations).
PAGE_QUERY = (
    "plan", "page", "area", "status", "owner", "overdue", "q", "after", "next", "verify",
    "activity", "actor", "action", "from", "to",
)  # fmt: skip
# Signed in as each of these, some request reaches every page and operation past its authority.
PEOPLE = ("admin", "processledare", "lead1", "anna.nilsson", "naringslivsradet")


def _form_fields() -> list[str]:
    """Every form field a page reads: its own, and those of every task form."""
    names = {
        "username", "password", "language", "next", "period", "deadline", "year", "role", "absent",
        "substitute", "starts_on", "ends_on", "code", "task_id", "reason", "active", "seen", "area",
        "session", *upkeep.FIELDS,
    }  # fmt: skip
    for form in instances.library().forms.forms.values():
        names |= set(form.schema.get("properties", {}))
    return sorted(names)


def _with_nul(value: Any) -> Iterator[Any]:
    """`value` with a NUL in one of its strings (keys included), each in turn: one refusal by a
    schema would hide what the next string does."""
    if isinstance(value, str):
        yield value + NUL
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for changed in _with_nul(item):
                yield [*value[:index], changed, *value[index + 1 :]]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield {(k + NUL if k == key else k): v for k, v in value.items()}
            for changed in _with_nul(item):
                yield {**value, key: changed}


def _cursor(task_id: str) -> str:
    """An inbox cursor as the service writes one, naming a task id with a NUL in it."""
    raw = json.dumps(["2026-12-15", "2026-11-02T09:00:00+00:00", task_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Call:
    """One request of the sweep and what it must answer: 400 with the code, unless the route
    refuses the caller first (401: the API checks a token before it reads the body)."""

    rule: str
    who: str | None
    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    expect: int = 400

    @property
    def api(self) -> bool:
        return self.url.startswith(API)


def _concrete(rule: str, values: dict[str, str], nul_in: str | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        value = values[match.group(1)] + (NUL if match.group(1) == nul_in else "")
        return quote(value, safe="/")

    return VARIABLE.sub(fill, rule)


def _valid_values(rule: str, samples: dict[str, list[str]]) -> Iterator[dict[str, str]]:
    names = VARIABLE.findall(rule)
    if not names:
        yield {}
        return
    first, *rest = names
    for value in samples[first]:  # only a first variable has several samples (the admin's action)
        yield {first: value, **{name: samples[name][0] for name in rest}}


def _calls(app: Flask, who: str | None, samples: dict[str, list[str]]) -> Iterator[Call]:
    """Every request of the sweep for `who`, route by route (signing out last)."""
    operations = {(op.method, f"{API}{op.rule}"): op for op in registry.OPERATIONS}
    fields = _form_fields()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule == "/logout", r.rule)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for values in _valid_values(rule.rule, samples):
                if rule.rule.startswith(API):
                    yield from _api_calls(rule.rule, operations[(method, rule.rule)], values, who)
                else:
                    yield from _page_calls(rule.rule, method, values, who, fields)


def _page_calls(
    rule: str, method: str, values: dict[str, str], who: str | None, fields: list[str]
) -> Iterator[Call]:
    form = method != "GET"
    path = _concrete(rule, values)
    for name in values:  # a NUL in each path variable
        yield Call(rule, who, method, _concrete(rule, values, nul_in=name), {"form": form})
    if not values:  # and in a path without variables
        yield Call(rule, who, method, path + "%00", {"form": form})
    query = {name: f"x{NUL}" for name in PAGE_QUERY} | {f"k{NUL}": "v"}
    yield Call(rule, who, method, f"{path}?{urlencode(query)}", {"form": form})
    if form:
        yield Call(rule, who, method, path, {"form": True, "data": {n: f"x{NUL}" for n in fields}})
        yield Call(rule, who, method, path, {"form": True, "data": {f"k{NUL}": "v"}})
        upload = {"file": (io.BytesIO(b"PK"), f"plan{NUL}.xlsx")}
        yield Call(rule, who, method, path, {"form": True, "data": upload})


def _api_calls(rule: str, op: registry.Operation, values: dict[str, str], who: str | None) -> Iterator[Call]:
    method = op.method
    body: Any = API_CASES[(method, op.rule)][1]  # a body the route takes, as the role matrix sends it
    path = _concrete(rule, values)
    sent = {"json": body} if body is not None else {}
    for name in values:
        yield Call(rule, who, method, _concrete(rule, values, nul_in=name), sent)
    if not values:
        yield Call(rule, who, method, path + "%00", sent)
    query = {name: f"x{NUL}" for name in op.query or {"x": {}}}
    yield Call(rule, who, method, f"{path}?{urlencode(query)}", sent)
    yield Call(rule, who, method, f"{path}?{urlencode({f'k{NUL}': 'v'})}", sent)
    if body is not None:
        # The body is read after the token is checked: an anonymous caller is refused first.
        expect = 401 if who is None else 400
        for changed in _with_nul(body):
            yield Call(rule, who, method, path, {"json": changed}, expect=expect)
    if op.headers:
        yield Call(rule, who, method, path, {**sent, "headers": {name: f"x{NUL}" for name in op.headers}})
    if op.rule == "/me":
        yield Call(rule, who, method, path, {"headers": {"Authorization": f"Bearer pf_{NUL}"}})


class Sweep:
    """The clients of one sweep: anonymous and each of PEOPLE, a page session and an API token;
    an open cycle, so that a task and a process exist to name in paths."""

    def __init__(self, app: Flask, db: Database) -> None:
        app.config["PROPAGATE_EXCEPTIONS"] = False  # a failure answers 500, as it would in production
        chain = Chain(db)
        chain.start_cycle()
        task = chain.task("anna.nilsson", "report_status", "1.1.1").id
        with db.transaction() as session:
            instance = session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id).limit(1))
            self.tokens = {who: people.issue_token(session, OPERATOR_ACTOR, who) for who in PEOPLE}
        self.samples = {**SAMPLES, "task_id": [task], "instance_id": [str(instance)]}
        self.pages: dict[str | None, tuple[FlaskClient, str]] = {}
        anonymous = app.test_client()
        self.pages[None] = (anonymous, csrf_token(anonymous, "/login"))
        for who in PEOPLE:
            client = app.test_client()
            assert login(client, who).status_code == 302
            self.pages[who] = (client, csrf_token(client, "/inbox"))
        self.api = app.test_client()

    def send(self, call: Call) -> TestResponse:
        kwargs = dict(call.kwargs)
        if call.api:
            headers = dict(kwargs.pop("headers", {}))
            if call.who is not None:
                headers.setdefault("Authorization", f"Bearer {self.tokens[call.who]}")
            return self.api.open(call.url, method=call.method, headers=headers, **kwargs)
        client, token = self.pages[call.who]
        if kwargs.pop("form", False):
            # A browser's form carries its CSRF token: without it the refusal would be CSRF's.
            kwargs["data"] = {"csrf_token": token, **kwargs.get("data", {})}
        return client.open(call.url, method=call.method, **kwargs)


def _wrong(call: Call, response: TestResponse) -> str | None:
    """What is wrong with the answer to `call`, or None."""
    status, kind = response.status_code, response.mimetype
    if status >= 500:
        return f"{status}"
    if status != call.expect:
        return f"{status}, expected {call.expect}"
    if call.api:
        if kind != MEDIA_TYPE:
            return f"{status} as {kind}"
        if status == 400 and response.get_json()["code"] != CODE:
            return f"{status} {response.get_json()['code']}"
        return None
    if kind != "text/html":
        return f"{status} as {kind}"
    if status == 400 and i18n.text("sv", CODE) not in html.unescape(response.get_data(as_text=True)):
        return f"{status} without the words of {CODE}"
    return None


def test_no_route_answers_a_control_character_with_a_server_error(app: Flask, web: Database) -> None:
    sweep = Sweep(app, web)
    problems, failing, server_errors, count = [], set(), [], 0
    for who in (None, *PEOPLE):
        for call in _calls(app, who, sweep.samples):
            count += 1
            response = sweep.send(call)
            wrong = _wrong(call, response)
            response.close()  # a file sent (a static file, a report) is closed
            if wrong is None:
                continue
            line = f"{call.who or 'anonymous'} {call.method} {call.url!r} {call.kwargs}: {wrong}"
            problems.append(line)
            if response.status_code >= 500:
                failing.add(f"{call.method} {call.rule}")
                server_errors.append(line)
    assert count > 1000
    assert not problems, (
        f"{len(failing)} routes answered 5xx ({len(server_errors)} requests): {sorted(failing)}\n"
        + "\n".join(server_errors[:80])
        + f"\n{len(problems)} of {count} answers wrong:\n"
        + "\n".join(problems[:40])
    )


def test_a_nul_in_the_sign_in_form_is_refused_and_counted_as_no_failure(app: Flask, web: Database) -> None:
    client = app.test_client()
    token = csrf_token(client, "/login")
    for username, password in (("admin" + NUL, password_of("admin")), ("admin", password_of("admin") + NUL)):
        response = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 400
        assert i18n.text("sv", CODE) in response.get_data(as_text=True)
    with web.reading() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert client.get("/inbox").status_code == 302  # not signed in
    assert login(client, "admin").status_code == 302  # and nothing held against the account


def test_the_refusal_names_the_field_in_the_callers_language(app: Flask, web: Database) -> None:
    with web.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "admin")
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"data": {"status": "green", "comment": f"ok{NUL}"}}
    answer = client.post("/api/v1/tasks/x/complete", json=body, headers={**bearer, "Accept-Language": "en"})
    assert answer.status_code == 400 and answer.mimetype == MEDIA_TYPE
    problem = answer.get_json()
    assert problem["code"] == CODE and problem["detail"] == i18n.text("en", CODE)
    assert problem["errors"] == {
        "data.comment": {
            "code": "form.control_characters",
            "message": i18n.text("en", "form.control_characters"),
        }
    }
    answer = client.get(f"/api/v1/cycles/2026-Q4{quote(NUL)}", headers={**bearer, "Accept-Language": "sv"})
    assert answer.get_json()["errors"].keys() == {"period"}
    assert answer.get_json()["detail"] == i18n.text("sv", CODE)
    assert client.get("/api/v1/inbox?q=a%1Bb", headers=bearer).get_json()["errors"].keys() == {"q"}
    answer = client.get("/api/v1/me", headers={**bearer, "Idempotency-Key": "a\x7fb"})
    assert answer.get_json()["errors"].keys() == {"Idempotency-Key"}

    page = app.test_client()
    page.post("/language", data={"language": "en", "csrf_token": csrf_token(page, "/login")})
    answer = page.post("/login", data={"username": f"a{NUL}", "csrf_token": csrf_token(page, "/login")})
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    words = html.unescape(answer.get_data(as_text=True))
    assert (
        i18n.text("en", CODE) in words and "username: " + i18n.text("en", "form.control_characters") in words
    )


def test_text_a_person_wrote_may_hold_tabs_and_new_lines(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    client = signed_in("anna.nilsson")
    comment = "Första raden\r\nAndra raden\tmed tabb"  # as a browser sends a text area's lines
    done = post(client, f"/tasks/{task.id}", {"status": "green", "comment": comment}, f"/tasks/{task.id}")
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    assert client.get("/inbox?q=Andra%09raden").status_code == 400  # a query value is one line


def test_an_inbox_cursor_naming_a_control_character_is_refused(app: Flask, web: Database) -> None:
    with web.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "admin")
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    assert client.get(f"/inbox?after={_cursor(NUL)}").status_code == 400
    answer = client.get(f"/api/v1/inbox?cursor={_cursor(NUL)}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.get_json()["errors"].keys() == {"cursor"}


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("plain text, åäö €", False, False),
        ("a\tb\nc\r\n", True, False),
        ("a\tb", False, True),
        ("a\nb", False, True),
        ("a\x00b", True, True),
        ("\x1b[31m", True, True),
        ("a\x7fb", True, True),
        ("a\x85b", True, True),  # C1 (NEL)
        ("a\x0bb", True, True),  # vertical tab
        ("a\ud800b", True, True),  # a lone surrogate
        ("😀", False, False),
    ],
)
def test_what_is_refused(value: str, multiline: bool, refused: bool) -> None:
    assert control_characters.refused(value, multiline) is refused


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"data": {"comment": "line one\\nline two\\ttabbed\\r\\n"}}', None),
        (b'{"title": "\\u00e5\\u00e4\\u00f6 \\ud83d\\ude00"}', None),  # ensure_ascii text, a pair
        (b'{"title": "a\\\\u0000b"}', None),  # an escaped backslash: the text "\u0000", not a NUL
        (b'{"data": {"comment": "a\\u0000b"}}', "data.comment"),
        (b'{"data": {"items": ["ok", "a\\u001Bb"]}}', "data.items.1"),
        (b'{"title": "a\\bb"}', "title"),
        (b'{"title": "a\\u007fb"}', "title"),
        (b'{"title": "a\\u0085b"}', "title"),
        (b'{"title": "a\xc2\x85b"}', "title"),  # C1 sent raw, as UTF-8
        (b'{"title": "a\x7fb"}', "title"),
        (b'{"title": "a\\ud800b"}', "title"),  # a lone surrogate
        (b'{"data": {"a\\nb": 1}}', "data.a�b"),  # a key is one line
        (b'"a\\u0000"', ""),
    ],
)
def test_a_json_body_names_the_string_or_key_at_fault(raw: bytes, where: str | None) -> None:
    assert control_characters.json_field_at_fault(raw, json.loads(raw)) == where


def test_a_body_without_escapes_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[Any] = []
    monkeypatch.setattr(control_characters, "_walk", lambda value, path: walked.append(value))
    raw = b'{"data": {"status": "green", "comment": "\xc3\xa5 fine"}}'
    assert control_characters.json_field_at_fault(raw, json.loads(raw)) is None
    assert walked == []
