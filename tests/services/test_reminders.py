"""Whose turn a reminder is, by the authority's own rule (access.who_may_act): a reminder goes to
whoever may act on the task now, a substitute in force beside the absent person, never to an
assignee who has lost the right; a run repeated adds nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from planflow import clock
from planflow.models import JobMark, Notice, User
from planflow.services.authority import people
from planflow.services.chain import reminders, tasks
from planflow.services.records.audit import OPERATOR_ACTOR

from .chain import START, Chain

DEADLINE = date(2026, 12, 15)  # the chain's cycle's
REMINDER_DAY = date(2026, 12, 14)  # one working day before it


def _remind(chain: Chain) -> dict[str, int]:
    clock.set_now(datetime(2026, 12, 14, 8, tzinfo=UTC))
    with chain.db.transaction() as session:
        session.merge(JobMark(job=reminders.MARK, through=date(2026, 12, 13)))
    return reminders.send_reminders(
        chain.db.transaction, chain.db.reading, reminders.ReminderRules(), REMINDER_DAY
    )


def _reminded(chain: Chain, task_id: str) -> set[str]:
    with chain.db.reading() as session:
        notices = session.execute(
            select(User.username, Notice.params)
            .join(User, User.id == Notice.recipient_id)
            .where(Notice.template == "notice.reminder")
        ).all()
        return {username for username, params in notices if params["task_id"] == task_id}


def test_a_substitute_is_reminded_beside_the_absent_owner(chain: Chain) -> None:
    report = chain.task("anna.nilsson", "report_status", "1.1.1").id
    with chain.db.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "vikarie", "Vikarie", "vikarie@example.org")
        people.add_substitute(session, OPERATOR_ACTOR, "anna.nilsson", "vikarie", START.date(), None)
    assert _remind(chain)["reminders"] > 0
    assert _reminded(chain, report) == {"anna.nilsson", "vikarie"}
    other = chain.task("erik.berg", "report_status", "1.1.2").id
    assert _reminded(chain, other) == {"erik.berg"}


def test_an_assignee_who_lost_the_right_is_not_reminded(chain: Chain) -> None:
    chain.do("sara.lind", "report_status", {"status": "green"}, "2.1.1")
    review = chain.task("lead2", "review_report", "2.1.1").id
    chain.do("omar.haddad", "report_status", {"status": "green"}, "2.1.2")
    open_review = chain.task("lead2", "review_report", "2.1.2").id
    with chain.db.transaction() as session:
        tasks.claim(session, people.get_user(session, "lead2"), review)
        people.add_user(
            session,
            OPERATOR_ACTOR,
            "ny.lead",
            "Ny ansvarig",
            "ny@example.org",
            [people.RoleSpec.parse("focus_area_lead:2")],
        )
        people.revoke_role(session, OPERATOR_ACTOR, "lead2", people.RoleSpec.parse("focus_area_lead:2"))
    _remind(chain)
    assert _reminded(chain, review) == set()  # claimed by lead2, who may no longer act on it
    assert _reminded(chain, open_review) == {"ny.lead"}  # the area's lead now


def test_a_leads_own_report_is_the_process_leaders_to_be_reminded_of(chain: Chain) -> None:
    with chain.db.transaction() as session:
        people.set_activity_owner(session, OPERATOR_ACTOR, "1.1.1", "lead1")
    chain.do("lead1", "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("processledare", "review_report", "1.1.1").id
    _remind(chain)
    assert _reminded(chain, review) == {"processledare"}


def test_reminders_run_twice_are_queued_once(chain: Chain) -> None:
    first = _remind(chain)
    with chain.db.reading() as session:
        queued = session.scalars(select(Notice.dedupe_key).where(Notice.template == "notice.reminder")).all()
    again = _remind(chain)  # the same day once more, from the same mark: nothing new
    with chain.db.reading() as session:
        reminders = select(Notice.dedupe_key).where(Notice.template == "notice.reminder")
        assert sorted(session.scalars(reminders).all()) == sorted(queued)
    assert first["reminders"] == len(queued) > 0 and again["reminders"] == 0


def test_an_escalation_names_whom_it_waits_for_by_name_not_login(chain: Chain) -> None:
    report = chain.task("anna.nilsson", "report_status", "1.1.1").id
    clock.set_now(datetime(2026, 12, 18, 8, tzinfo=UTC))  # three working days past the deadline
    with chain.db.transaction() as session:
        session.merge(JobMark(job=reminders.MARK, through=date(2026, 12, 17)))
    sent = reminders.send_reminders(
        chain.db.transaction, chain.db.reading, reminders.ReminderRules(), date(2026, 12, 18)
    )
    assert sent["escalated_to_lead"] > 0
    with chain.db.reading() as session:
        params = [
            p
            for p in session.scalars(
                select(Notice.params).where(Notice.template == "notice.overdue_escalation")
            )
            if p["task_id"] == report
        ]
    assert params and {p["waiting"] for p in params} == {"Anna Nilsson (demo)"}  # her name, not login
