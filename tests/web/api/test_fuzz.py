"""Fuzzing from the OpenAPI document (schemathesis, in-process against the WSGI app, with a bearer
token): no 5xx, and every response fits the document. Bounded to stay around a minute; the run
prints how many cases it tried."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from planflow import migrate
from planflow.app import create_app
from planflow.db import get_db
from planflow.services.authority import people
from planflow.services.chain import cycles
from planflow.services.plan import demo, plans
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

EXAMPLES = 15  # per operation (schemathesis adds its explicit and coverage cases); ~30 operations
TRIED: dict[str, int] = {}
TOKENS: dict[str, str] = {}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def _fuzzed_app(folder: Path) -> Flask:
    """One SQLite database for the whole run, with the plan, the demo users and an open cycle.
    Made when the module is collected: schemathesis's pytest.from_fixture fails on pytest 9
    ('Function' object has no attribute '_nodeid'), so the schema is loaded at import."""
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'fuzz.sqlite3'}", "SECRET_KEY": "t"}, str(folder))
    with app.app_context():
        migrate.upgrade(get_db().engine)
        with get_db().transaction() as session:
            plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
            demo.create_demo_data(session)
            leader = Actor(people.get_user(session, "processledare"))
            cycles.start_cycle(session, leader, "2099-Q4", date(2099, 12, 15))
            TOKENS["admin"] = people.issue_token(session, OPERATOR_ACTOR, "admin")
    return app


FOLDER = Path(tempfile.mkdtemp(prefix="planflow-fuzz-"))
APP = _fuzzed_app(FOLDER)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


# One test per operation, each a Hypothesis run of valid and invalid requests. (schemathesis's own
# parametrize gives every operation the same node id, which pytest-xdist cannot tell apart.)
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_no_server_error_and_every_response_fits_the_document(operation: APIOperation) -> None:
    cases = st.one_of(
        operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def call(case: Case) -> None:
        TRIED[operation.label] = TRIED.get(operation.label, 0) + 1
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['admin']}"}, checks=CHECKS)

    call()


def test_fuzzing_tried_every_operation(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the fuzzing above (pytest keeps a module's order): says how much it tried."""
    try:
        with capsys.disabled():
            print(f"\nschemathesis tried {sum(TRIED.values())} cases over {len(TRIED)} operations")
        assert len(TRIED) == len(schema.raw_schema["paths"]) or len(TRIED) > 20
    finally:
        APP.extensions["planflow.db"].dispose()
        shutil.rmtree(FOLDER, ignore_errors=True)
