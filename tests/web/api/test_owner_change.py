"""An activity's owner changes by one rule, whichever front end changes it: the plan edit's
(activity_edits.change_activity): the right to edit the plan, the office stays the activity's own, one event
`activity.updated` naming the change, the version checked where the caller has one."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity
from planflow.services.authority import people
from planflow.services.plan import activity_edits, plans
from planflow.services.records import audit
from planflow.services.records.audit import Actor

from ...conftest import Cli
from ..conftest import post
from .conftest import Api

NEW_OWNER = "sara.lind"  # of Arbetsmarknadskontoret: the activities of area 1 are Näringslivskontoret's


def _facts(db: Database, code: str) -> activity_edits.ActivityEdit:
    with db.reading() as session:
        activity = session.scalar(select(Activity).where(Activity.code == code))
        assert activity is not None
        return activity_edits.ActivityEdit.of(activity)


def test_page_api_cli_and_plan_edit_record_the_same_owner_change(
    web: Database, api: Api, cli: Cli, signed_in: Callable[[str], FlaskClient]
) -> None:
    with web.reading() as session:
        slug = plans.get_plan(session).slug
    before = {code: _facts(web, code) for code in ("1.1.1", "1.1.3", "1.1.5", "1.4.1", "1.3.1")}
    assert {f.owner for f in before.values()} == {"anna.nilsson"}

    admin_page = post(signed_in("admin"), "/admin/owner", {"code": "1.1.1", "username": NEW_OWNER}, "/admin")
    assert admin_page.status_code == 302
    put = api("PUT", "/activities/1.1.3/owner", "processledare", {"owner": NEW_OWNER})
    assert put.status_code == 200 and put.json == {"plan": slug, "code": "1.1.3", "owner": NEW_OWNER}
    assert cli("activity", "owner", "1.1.5", NEW_OWNER).exit_code == 0
    patch = {"version": before["1.4.1"].version(), "owner": NEW_OWNER}
    assert api("PATCH", "/activities/1.4.1", "admin", patch).status_code == 200
    edit = before["1.3.1"]
    form = {
        "title": edit.title,
        "owner": NEW_OWNER,
        "office": edit.office or "",
        "starts_on": edit.starts_on.isoformat() if edit.starts_on else "",
        "ends_on": edit.ends_on.isoformat() if edit.ends_on else "",
        "seen": edit.version(),
    }
    edited = post(signed_in("processledare"), "/admin/activities/1.3.1", form, "/admin/activities/1.3.1")
    assert edited.status_code == 302

    with web.reading() as session:
        events = {
            e.subject_id: (e.actor, e.role, e.data)
            for e in audit.events(session, "activity", action="activity.updated")
        }
        assert audit.events(session, action="activity.owner_changed") == []
    change = {"plan": slug, "changes": {"owner": ["anna.nilsson", NEW_OWNER]}}
    for code, facts in before.items():
        assert events[code][2] == change, code
        assert _facts(web, code) == activity_edits.ActivityEdit(
            facts.title, NEW_OWNER, facts.office, facts.starts_on, facts.ends_on
        )  # the office stays the activity's own
    roles = {code: events[code][:2] for code in before}
    assert roles == {
        "1.1.1": ("admin", "admin"),
        "1.1.3": ("processledare", "process_leader"),
        "1.1.5": ("operator", "admin"),  # the local operator administers as such
        "1.4.1": ("admin", "admin"),
        "1.3.1": ("processledare", "process_leader"),
    }


def test_an_owner_change_is_refused_alike_where_the_caller_has_a_version(web: Database, api: Api) -> None:
    stale = _facts(web, "1.1.1").version()
    assert api("PUT", "/activities/1.1.1/owner", "admin", {"owner": "erik.berg"}).status_code == 200
    again = api("PUT", "/activities/1.1.1/owner", "admin", {"owner": NEW_OWNER, "version": stale})
    assert again.status_code == 409 and again.json["code"] == "error.activity.changed_meanwhile"
    current = _facts(web, "1.1.1").version()
    moved = api("PUT", "/activities/1.1.1/owner", "admin", {"owner": NEW_OWNER, "version": current})
    assert moved.status_code == 200
    gone = api("PUT", "/activities/1.1.1/owner", "admin", {"owner": "ingen.alls"})
    assert gone.status_code == 400 and "owner" in gone.json["errors"]
    assert api("PUT", "/activities/1.1.1/owner", "anna.nilsson", {"owner": "anna.nilsson"}).status_code == 403
    with web.transaction() as session:  # the right is the plan's editing, not managing people
        lead = Actor(people.get_user(session, "processledare"))
        assert people.set_activity_owner(session, lead, "1.1.1", "anna.nilsson").owner == "anna.nilsson"
