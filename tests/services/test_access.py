"""The one authority: for every user and every open task, "it is in my inbox" ⇔ "I may act on it"
⇔ what the authority table (written out below, independently of the code) says; and the same for
use cases that are not tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import OpenTask, User
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.chain import annual, cycles, tasks
from planflow.services.errors import Forbidden
from planflow.services.records.audit import OPERATOR_ACTOR, SYSTEM_ACTOR, Actor

from .chain import Chain

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = START.date()

# The authority table: who may act in each lane (the steering group's decisions are recorded by
# its chair), for the tasks this test opens. Substitutes and assignment come on top of it.
LANE_HOLDERS = {
    "report_status": {"anna.nilsson"},  # activity_owner of 1.1.1
    "review_report": {"lead2", "second.lead"},  # focus_area_lead of area 2
    "draft_recommendation": {"processledare", "pl.inactive"},  # process_leader
    "steering_decision": {"ordforande"},  # steering_group: the chair
    "board_note": {"kommunstyrelsen"},  # board
}
INACTIVE = {"pl.inactive"}


@pytest.fixture
def chain(seeded: Database) -> Chain:
    clock.set_now(START)
    chain = Chain(seeded)
    with seeded.transaction() as session:
        operator = OPERATOR_ACTOR
        for username, role in (("second.lead", "focus_area_lead:2"), ("pl.inactive", "process_leader")):
            people.add_user(
                session,
                operator,
                username,
                username,
                f"{username}@example.org",
                [people.RoleSpec.parse(role)],
            )
        for username in ("vikarie", "vikarie.old", "vikarie.future", "vikarie.inactive"):
            people.add_user(session, operator, username, username, f"{username}@example.org")
        people.add_substitute(
            session, operator, "lead2", "vikarie", TODAY - timedelta(days=1), TODAY + timedelta(days=5)
        )
        people.add_substitute(
            session, operator, "lead2", "vikarie.old", TODAY - timedelta(days=9), TODAY - timedelta(days=1)
        )
        people.add_substitute(session, operator, "lead2", "vikarie.future", TODAY + timedelta(days=1), None)
        people.add_substitute(session, operator, "pl.inactive", "vikarie.inactive", TODAY, None)
        people.set_active(session, operator, "pl.inactive", False)
    chain.start_cycle()
    chain.do("sara.lind", "report_status", {"status": "green"}, "2.1.1")  # review_report for lead 2
    chain.report_and_accept("3.1.1", "yellow", cause="Sen start.")  # draft_recommendation
    chain.report_and_accept("4.1.1", "red", cause="Ingen budget.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Omfördela."}, "4.1.1")
    chain.do("lead4", "agree_recommendation", {"outcome": "agree"})  # steering_decision
    clock.set_now(datetime(2026, 12, 1, 9, tzinfo=UTC))
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})  # board_note
    clock.set_now(START)
    return chain


def _tasks(db: Database) -> dict[str, OpenTask]:
    with db.transaction() as session:
        rows = session.scalars(select(OpenTask).where(OpenTask.name.in_(LANE_HOLDERS))).all()
        chosen: dict[str, OpenTask] = {}
        for task in rows:
            if task.name != "report_status" or task.activity_id == _activity_id(session, "1.1.1"):
                chosen.setdefault(task.name, task)
        return chosen


def _activity_id(session: object, code: str) -> int:
    from planflow.models import Activity

    return session.scalar(select(Activity.id).where(Activity.code == code))  # type: ignore[attr-defined, no-any-return]


def _expected(name: str, username: str, assignee: str | None) -> bool:
    """The table, with substitution and assignment: whom the user may act for, who holds the lane."""
    acting_for = {username}
    if username == "vikarie":
        acting_for.add("lead2")
    if username == "vikarie.inactive":
        acting_for.add("pl.inactive")
    acting_for -= INACTIVE
    holders = LANE_HOLDERS[name] - INACTIVE
    if assignee is not None:
        holders &= {assignee}
    return bool(acting_for & holders)


def _check(db: Database, assignees: dict[str, str | None] | None = None) -> int:
    """Every user × every chosen task: inbox ⇔ may act ⇔ the table. Returns how many pairs."""
    assignees = assignees or {}
    checked = 0
    chosen = _tasks(db)
    assert set(chosen) == set(LANE_HOLDERS)
    with db.transaction() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        for user in users:
            inbox = {t.id for t in tasks.inbox(session, user)}
            for name, task in chosen.items():
                may_act = access.acting_for(session, user, task.id) is not None
                expected = _expected(name, user.username, assignees.get(name))
                assert (task.id in inbox, may_act) == (expected, expected), (user.username, name)
                checked += 1
    return checked


def test_inbox_and_right_to_act_agree_with_the_table_for_every_user_and_lane(chain: Chain) -> None:
    assert _check(chain.db) == 5 * 29  # every user, every lane


def test_claim_by_a_substitute_and_by_a_second_lead_then_revoked(chain: Chain) -> None:
    review = _tasks(chain.db)["review_report"]
    with chain.db.transaction() as session:  # the substitute claims for the absent lead
        tasks.claim(session, people.get_user(session, "vikarie"), review.id)
    _check(chain.db, {"review_report": "lead2"})
    with chain.db.transaction() as session:
        tasks.unclaim(session, people.get_user(session, "lead2"), review.id)
        tasks.claim(session, people.get_user(session, "second.lead"), review.id)
    _check(chain.db, {"review_report": "second.lead"})
    with chain.db.transaction() as session:  # the role is revoked after the claim
        people.revoke_role(session, OPERATOR_ACTOR, "second.lead", people.RoleSpec.parse("focus_area_lead:2"))
    LANE_HOLDERS_AFTER = LANE_HOLDERS["review_report"] - {"second.lead"}
    with chain.db.transaction() as session:
        user = people.get_user(session, "second.lead")
        assert access.acting_for(session, user, review.id) is None
        assert review.id not in {t.id for t in tasks.inbox(session, user)}
        for holder in LANE_HOLDERS_AFTER:  # still assigned to second.lead: nobody's turn but theirs
            assert access.acting_for(session, people.get_user(session, holder), review.id) is None
    with pytest.raises(Forbidden):
        chain.complete("second.lead", review.id, {"outcome": "accept"})


def test_substitution_outside_its_dates_gives_no_right(chain: Chain) -> None:
    review = _tasks(chain.db)["review_report"]
    clock.set_now(START + timedelta(days=6))  # vikarie's substitution has ended
    with chain.db.transaction() as session:
        assert access.acting_for(session, people.get_user(session, "vikarie"), review.id) is None
        future = people.get_user(session, "vikarie.future")
        assert access.acting_for(session, future, review.id) is not None  # and the next one began
    with pytest.raises(Forbidden):
        chain.complete("vikarie", review.id, {"outcome": "accept"})


def test_owner_task_given_back_to_its_group_stays_with_the_owner(chain: Chain) -> None:
    """Found: after an admin gave an owner's task back to its group it was in nobody's inbox,
    yet the owner could still complete it."""
    report = _tasks(chain.db)["report_status"]
    with chain.db.transaction() as session:
        tasks.reassign(session, Actor(people.get_user(session, "admin")), report.id, None, "Tillbaka.")
    _check(chain.db)
    assert report.id in {t.id for t in chain.inbox("anna.nilsson")}
    chain.complete("anna.nilsson", report.id, {"status": "green"})


def test_a_steering_member_cannot_decide_alone(chain: Chain) -> None:
    """Found: any single steering-group member could decide a deviation from the inbox."""
    decision = _tasks(chain.db)["steering_decision"]
    for member in ("styrgrupp.nk", "styrgrupp.sbk", "styrgrupp.ak"):
        assert decision.id not in {t.id for t in chain.inbox(member)}
        with pytest.raises(Forbidden):
            chain.complete(member, decision.id, {"decision": "approve", "rationale": "Ok"})


@pytest.mark.parametrize(
    ("use_case", "allowed"),
    [
        (UseCase.START_CYCLE, {"processledare", "admin"}),
        (UseCase.START_ANNUAL_REPORT, {"processledare", "admin"}),
        (UseCase.MANAGE_PEOPLE, {"admin"}),
        (UseCase.MANAGE_TOKENS, {"admin"}),
        (UseCase.GIVE_DIALOGUE_FEEDBACK, {"naringslivsradet"}),
        (UseCase.READ_INTERNAL, "municipal"),
        (UseCase.READ_PLAN, "everyone"),
    ],
)
def test_use_cases_follow_the_table(seeded: Database, use_case: UseCase, allowed: object) -> None:
    with seeded.transaction() as session:
        users = session.scalars(select(User).where(User.active)).all()
        outcome = {u.username for u in users if access.may(session, u, use_case) is not None}
    everyone = {u.username for u in users}
    if allowed == "everyone":
        assert outcome == everyone
    elif allowed == "municipal":
        assert outcome == everyone - {"naringslivsradet"}
    else:
        assert outcome == allowed


def test_proposing_is_scoped_to_the_leads_own_area(seeded: Database) -> None:
    with seeded.transaction() as session:
        lead = people.get_user(session, "lead3")
        areas = {
            n
            for n in range(1, 6)
            if access.may(session, lead, UseCase.PROPOSE_ACTIVITY, _area_id(session, n))
        }
    assert areas == {3}


def _area_id(session: object, number: int) -> int:
    from planflow.models import FocusArea

    return session.scalar(select(FocusArea.id).where(FocusArea.number == number))  # type: ignore[attr-defined, no-any-return]


def test_refusals_name_what_and_why_and_the_operator_only_administers(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        owner = Actor(people.get_user(session, "anna.nilsson"))
        with pytest.raises(Forbidden) as refused:
            cycles.start_cycle(session, owner, "2026-Q4", date(2026, 12, 15))
        assert refused.value.render("sv") == "anna.nilsson får inte starta en rapporteringscykel."
        assert refused.value.render("en") == "anna.nilsson may not start a reporting cycle."
        with pytest.raises(Forbidden):
            annual.start_annual_report(session, owner, 2026)
        with pytest.raises(Forbidden):
            cycles.start_cycle(session, OPERATOR_ACTOR, "2026-Q4", date(2026, 12, 15))
        assert cycles.start_cycle(session, SYSTEM_ACTOR, "2026-Q4", date(2026, 12, 15)).period == "2026-Q4"


def test_a_substitute_who_claimed_a_task_loses_it_when_the_substitution_ends(chain: Chain) -> None:
    """Found: a substitute who had claimed the absent lead's task could still complete it after
    the substitution ended, audited as acting for nobody."""
    review = _tasks(chain.db)["review_report"]
    with chain.db.transaction() as session:
        tasks.claim(session, people.get_user(session, "vikarie"), review.id)
    clock.set_now(START + timedelta(days=6))
    with pytest.raises(Forbidden):
        chain.complete("vikarie", review.id, {"outcome": "accept"})
    chain.complete("lead2", review.id, {"outcome": "accept"})  # the claim was for lead2: still theirs
