"""One rule for editing an activity's title, owner, office and dates, whoever edits: the page
(activity_edits.update_activity) and an Excel row refuse the same things with the same words and record the
same `activity.updated` event; only the process leader and the admin may edit; the activities the
steering group has just added are listed with what they still lack."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from planflow.db import Database
from planflow.i18n import Message
from planflow.models import Activity, AuditEvent
from planflow.services.authority import people
from planflow.services.chain import proposals
from planflow.services.errors import Conflict, Forbidden, InvalidInput
from planflow.services.outputs import excel
from planflow.services.outputs.excel import ImportRefused
from planflow.services.plan import activity_edits, plans
from planflow.services.records import audit
from planflow.services.records.audit import Actor
from tests.services.chain import Chain

EDIT = {
    "title": "Företagsbesök med kommunalråd",
    "owner_username": "erik.berg",
    "office": "Näringslivskontoret",
    "starts_on": date(2026, 1, 1),
    "ends_on": date(2027, 6, 30),
}


def _update(db: Database, username: str, code: str, **changes: Any) -> bool:
    with db.transaction() as session:
        return activity_edits.update_activity(
            session,
            Actor(people.get_user(session, username)),
            plans.get_plan(session),
            code,
            **{**EDIT, **changes},
        )


def _facts(db: Database, code: str) -> dict[str, Any]:
    with db.reading() as session:
        activity = session.scalars(select(Activity).where(Activity.code == code)).one()
        return activity_edits.ActivityEdit.of(activity).as_dict()


def _events(db: Database) -> list[AuditEvent]:
    with db.reading() as session:
        events = audit.events(session, action="activity.updated")
        session.expunge_all()  # kept as read: the reading's rollback would expire them
        return events


def _version(db: Database, code: str) -> str:
    with db.reading() as session:
        activity = session.scalars(select(Activity).where(Activity.code == code)).one()
        return activity_edits.ActivityEdit.of(activity).version()


def test_an_edit_started_before_anothers_save_is_refused_and_changes_nothing(seeded: Database) -> None:
    opened = _version(seeded, "1.1.1")
    assert _update(seeded, "admin", "1.1.1", title="Först sparat", seen=opened)
    facts, events = _facts(seeded, "1.1.1"), len(_events(seeded))
    with pytest.raises(Conflict) as refused:
        _update(seeded, "processledare", "1.1.1", title="Sparat för sent", seen=opened)
    assert refused.value.code == "error.activity.changed_meanwhile"
    assert _facts(seeded, "1.1.1") == facts and len(_events(seeded)) == events
    assert _update(
        seeded, "processledare", "1.1.1", title="Sparat efter att ha sett", seen=_version(seeded, "1.1.1")
    )
    assert _facts(seeded, "1.1.1")["title"] == "Sparat efter att ha sett"


def _import_edited(db: Database, edits: dict[str, object]) -> excel.ImportResult:
    with db.reading() as session:
        data = excel.export_xlsx(session)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for cell, value in edits.items():
        workbook["Fokusområde 2"][cell] = value
    out = io.BytesIO()
    workbook.save(out)
    read = excel.read_workbook(out.getvalue(), "plan.xlsx")
    with db.transaction() as session:
        return excel.import_xlsx(session, Actor(people.get_user(session, "processledare")), read)


def test_an_edit_is_applied_once_and_audited_with_before_and_after(seeded: Database) -> None:
    before = _facts(seeded, "1.1.1")
    assert _update(seeded, "processledare", "1.1.1") is True
    after = _facts(seeded, "1.1.1")
    assert after == {
        "title": EDIT["title"],
        "owner": "erik.berg",
        "office": "Näringslivskontoret",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 6, 30),
    }
    assert _update(seeded, "processledare", "1.1.1") is False  # the same again changes nothing
    (event,) = _events(seeded)
    assert (event.actor, event.subject_type, event.subject_id) == ("processledare", "activity", "1.1.1")
    changes = event.data["changes"]
    assert changes["title"] == [before["title"], EDIT["title"]]
    assert changes["ends_on"] == [before["ends_on"].isoformat(), "2027-06-30"]
    assert "office" not in changes  # unchanged fields are not listed


def test_the_page_and_the_excel_import_apply_the_same_rule(seeded: Database) -> None:
    # The page's edit of 2.1.1 and a spreadsheet's edit of 2.1.2: the same event, field for field.
    page_edit = {**_as_is(seeded, "2.1.1"), "title": "Ny rubrik A", "ends_on": date(2029, 3, 31)}
    _update(seeded, "processledare", "2.1.1", **page_edit)
    result = _import_edited(seeded, {"C3": "Ny rubrik B", "H3": date(2029, 3, 31)})
    assert result.changed == ["2.1.2"]
    page, sheet = sorted(_events(seeded), key=lambda e: e.subject_id)
    assert (page.subject_id, sheet.subject_id) == ("2.1.1", "2.1.2")
    assert (
        (page.actor, page.subject_type) == (sheet.actor, sheet.subject_type) == ("processledare", "activity")
    )
    assert page.data.keys() == sheet.data.keys() == {"plan", "changes"}
    assert page.data["changes"].keys() == sheet.data["changes"].keys() == {"title", "ends_on"}
    assert page.data["changes"]["ends_on"][1] == sheet.data["changes"]["ends_on"][1] == "2029-03-31"

    # And the same refusal: a bad cell says what the page says beside the field.
    for cell, field, value in (
        ("C2", "title", "x" * 301),
        ("D2", "owner", "ingen.sadan"),
        ("F2", "office", "rad\tbrytning"),
    ):
        with pytest.raises(InvalidInput) as on_page:
            _update(seeded, "processledare", "2.1.1", **{**_as_is(seeded, "2.1.1"), _arg(field): value})
        with pytest.raises(ImportRefused) as in_sheet:
            _import_edited(seeded, {cell: value})
        (problem,) = in_sheet.value.problems
        assert (problem.row, problem.column) == (2, cell[0])
        assert problem.message == on_page.value.fields[field]


def _arg(field: str) -> str:
    return "owner_username" if field == "owner" else field


def _as_is(db: Database, code: str) -> dict[str, Any]:
    """The activity's facts as update_activity's arguments."""
    return {_arg(key): value for key, value in _facts(db, code).items()}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", Message("form.empty")),
        ({"title": "x" * 301}, "title", Message("form.too_long", {"max": 300})),
        ({"title": "Rad ett\nrad två"}, "title", Message("form.control_characters")),
        ({"title": "NUL\x00"}, "title", Message("form.control_characters")),
        (
            {"owner_username": "ingen.sadan"},
            "owner",
            Message("form.no_active_user", {"username": "ingen.sadan"}),
        ),
        ({"owner_username": ""}, "owner", Message("form.owner_needed")),
        ({"office": "x" * 201}, "office", Message("form.too_long", {"max": 200})),
        ({"ends_on": date(2025, 12, 31)}, "ends_on", Message("form.before_start")),
        ({"starts_on": date(202, 1, 1)}, "starts_on", Message("form.out_of_range", {"limit": "2000–2100"})),
    ],
)
def test_a_bad_field_is_named_and_nothing_changes(
    seeded: Database, changes: dict[str, Any], field: str, message: Message
) -> None:
    before = _facts(seeded, "1.1.1")
    with pytest.raises(InvalidInput) as refused:
        _update(seeded, "processledare", "1.1.1", **changes)
    assert refused.value.code == "error.activity.invalid"
    assert refused.value.fields == {field: message}
    assert _facts(seeded, "1.1.1") == before
    assert _events(seeded) == []


def test_an_inactive_person_cannot_become_owner(seeded: Database) -> None:
    with seeded.transaction() as session:
        people.set_active(session, audit.OPERATOR_ACTOR, "erik.berg", False)
    with pytest.raises(InvalidInput) as refused:
        _update(seeded, "processledare", "1.1.1")
    assert refused.value.fields["owner"].key == "form.no_active_user"


@pytest.mark.parametrize("username", ["anna.nilsson", "lead1", "ordforande", "naringslivsradet"])
def test_only_the_process_leader_and_the_admin_edit_the_plan(seeded: Database, username: str) -> None:
    with pytest.raises(Forbidden):
        _update(seeded, username, "1.1.1")
    assert _update(seeded, "admin", "1.1.1") is True


def _approve_a_proposal(db: Database) -> None:
    chain = Chain(db)
    proposal = {
        "title": "Lokalguide för nyetablerade företag",
        "intervention_area": "3.4",
        "owner": "johan.ek",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Efterfrågat i Näringslivsrådet.",
    }
    with db.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, "lead3"), proposal)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Stärker etableringen."})


def test_activities_added_by_approved_proposals_are_listed_with_what_they_lack(seeded: Database) -> None:
    _approve_a_proposal(seeded)
    _update(
        seeded,
        "processledare",
        "3.4.4",
        title="Lokalguide för nyetablerade företag",
        owner_username="johan.ek",
        office="",
        starts_on=None,
        ends_on=date(2027, 12, 31),
    )
    with seeded.reading() as session:
        leader = Actor(people.get_user(session, "processledare"))
        (added,) = activity_edits.added_activities(session, leader, plans.get_plan(session))
        assert (added.code, added.owner, added.missing) == ("3.4.4", "johan.ek", ("office", "starts_on"))
        assert added.decided_at is not None
        with pytest.raises(Forbidden):
            activity_edits.added_activities(
                session, Actor(people.get_user(session, "lead3")), plans.get_plan(session)
            )
