"""The role an act is recorded under is the role of the grant that allowed it, whichever front end
the person used: an administrator and a process leader each start a cycle and the year's annual
report through the page, the API and the command line, and the audit trail records the same role
for the same person in all three. Someone holding both roles acts as the first role
access.USE_CASES lists for the act (the process leader)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.models import AuditEvent, Role
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.records.audit import OPERATOR_ACTOR

from ...conftest import Cli
from ..conftest import post
from .conftest import Api

PERIOD, DEADLINE, YEAR = "2026-Q4", "2026-12-15", "2026"
# Who acts, the role granted besides their own (if any), and the role the trail must show.
PEOPLE = {
    "admin": ("admin", None, "admin"),
    "process_leader": ("processledare", None, "process_leader"),
    "both": ("processledare", "admin", "process_leader"),
}


def _through_page(api: Api, signed_in: Callable[[str], FlaskClient], cli: Cli, username: str) -> None:
    client = signed_in(username)
    form = {"period": PERIOD, "deadline": DEADLINE, "confirm": "1"}
    assert post(client, "/cycles", form, "/cycles").status_code == 302
    assert post(client, "/reports/annual", {"year": YEAR}).status_code == 302


def _through_api(api: Api, signed_in: Callable[[str], FlaskClient], cli: Cli, username: str) -> None:
    cycle = api("POST", "/cycles", username, json={"period": PERIOD, "deadline": DEADLINE})
    assert cycle.status_code == 201, cycle.json
    annual = api("POST", "/annual-reports", username, json={"year": int(YEAR)})
    assert annual.status_code == 201, annual.json


def _through_cli(api: Api, signed_in: Callable[[str], FlaskClient], cli: Cli, username: str) -> None:
    cycle = cli("cycle", "start", "--period", PERIOD, "--deadline", DEADLINE, "--as", username)
    assert cycle.exit_code == 0, cycle.output
    annual = cli("annual-report", "start", "--year", YEAR, "--as", username)
    assert annual.exit_code == 0, annual.output


FRONT_ENDS = {"page": _through_page, "api": _through_api, "cli": _through_cli}


def test_someone_holding_both_roles_acts_as_the_first_role_the_use_case_lists() -> None:
    for use_case in (UseCase.START_CYCLE, UseCase.START_ANNUAL_REPORT):
        assert access.USE_CASES[use_case][:2] == (Role.PROCESS_LEADER, Role.ADMIN)


@pytest.mark.parametrize("front_end", list(FRONT_ENDS))
@pytest.mark.parametrize("person", list(PEOPLE))
def test_the_role_recorded_is_the_same_through_every_front_end(
    api: Api, signed_in: Callable[[str], FlaskClient], cli: Cli, person: str, front_end: str
) -> None:
    username, also, expected = PEOPLE[person]
    if also is not None:
        with api.db.transaction() as session:
            user = people.get_user(session, username)
            people.grant_role(session, OPERATOR_ACTOR, user, people.RoleSpec.parse(also))
    FRONT_ENDS[front_end](api, signed_in, cli, username)
    with api.db.reading() as session:
        recorded = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.on_behalf_of, AuditEvent.role)
            .where(AuditEvent.action.in_(["cycle.started", "annual_report.started"]))
            .order_by(AuditEvent.seq)
        ).all()
    assert [tuple(row) for row in recorded] == [
        ("cycle.started", username, None, expected),
        ("annual_report.started", username, None, expected),
    ]
