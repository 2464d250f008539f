"""Word when work arrives: every task that arrives or comes back is a notice to whoever may act on
it, once per task and person; a cycle's opening is one notice per owner, with the deadline."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from planflow import i18n
from planflow.db import Database
from planflow.models import Activity, FocusArea, InterventionArea, Notice, OpenTask, ReportingCycle, User
from planflow.services.authority import people
from planflow.services.chain import arrivals, proposals
from planflow.services.errors import Forbidden, InvalidInput
from planflow.services.outputs import notices
from planflow.services.records import audit
from planflow.services.records.audit import Actor

from .chain import Chain


def _notices(db: Database, template: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(recipient's username, template, params) of every notice queued, oldest first."""
    with db.reading() as session:
        query = select(User.username, Notice.template, Notice.params).join(
            User, User.id == Notice.recipient_id
        )
        if template is not None:
            query = query.where(Notice.template == template)
        return [(u, t, p) for u, t, p in session.execute(query.order_by(Notice.id)).all()]


def _codes_in_area(db: Database, number: int, count: int) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(Activity.code)
                .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
                .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
                .where(FocusArea.number == number)
                .order_by(Activity.id)
                .limit(count)
            )
        )


def test_a_returned_report_reaches_its_owner_once_saying_who_returned_it_and_why(chain: Chain) -> None:
    owner = chain.owner_of("1.1.1")
    chain.do(owner, "report_status", {"status": "green", "comment": "Allt enligt plan."}, "1.1.1")
    chain.do(
        "lead1", "review_report", {"outcome": "return", "comment": "Saknar siffror för oktober."}, "1.1.1"
    )

    returned = _notices(chain.db, "notice.task_returned")
    again = chain.task(owner, "report_status", "1.1.1")  # the report, back in the owner's inbox
    assert [(u, p["task_id"]) for u, _, p in returned] == [(owner, again.id)]
    params = returned[0][2]
    assert params["by"] == "Fokusområdesansvarig 1 (demo)"
    assert params["reason"] == "Saknar siffror för oktober."
    with chain.db.reading() as session:
        notice = session.scalars(select(Notice).where(Notice.template == "notice.task_returned")).one()
        subject, body = notices.render(notice, "sv")
        english = notices.render(notice, "en")
    assert subject == f"Återsänd: {i18n.text('sv', 'task.report_status')}, 1.1.1 {again.activity_title}"
    assert (
        "Fokusområdesansvarig 1 (demo) har återsänt" in body and "Skäl: Saknar siffror för oktober." in body
    )
    assert english[0].startswith("Returned: ") and "Reason: Saknar siffror för oktober." in english[1]
    # The owner's report arrived with the cycle (one notice for all of it), not as a task of its own.
    mine = [t for u, t, _ in _notices(chain.db) if u == owner]
    assert sorted(mine) == ["notice.cycle_opened", "notice.task_returned"]


def test_a_lead_gets_a_notice_for_each_report_to_review(chain: Chain) -> None:
    with chain.db.transaction() as session:
        session.execute(update(User).where(User.username == "lead1").values(mail_delivery="immediate"))
    codes = _codes_in_area(chain.db, 1, 10)
    assert len(codes) == 10
    for code in codes:
        chain.do(chain.owner_of(code), "report_status", {"status": "green"}, code)

    arrived = [(u, p) for u, _, p in _notices(chain.db, "notice.task_arrived")]
    reviews = {t.id: t.activity_code for t in chain.inbox("lead1") if t.name == "review_report"}
    assert sorted(p["task_id"] for _, p in arrived) == sorted(reviews)  # one per review, no other
    assert {u for u, _ in arrived} == {"lead1"}
    assert {p["about"]["text"].split(" ")[0] for _, p in arrived} == set(codes)
    assert {p["due"]["params"]["date"] for _, p in arrived} == {"2026-12-15"}
    with chain.db.reading() as session:
        channels = session.scalars(
            select(Notice.channel).where(Notice.template == "notice.task_arrived")
        ).all()
    assert set(channels) == {"mail"}  # lead1 chose immediate: each due at once (mailed as one: test_mail)


def test_work_sent_on_reaches_the_next_role(chain: Chain) -> None:
    """A red report accepted: the process leader's recommendation; the lead's answer; the chair's
    decision; each told to the one whose turn it is, the chair's return to the process leader."""
    chain.report_and_accept("2.1.1", "red", cause="Ingen budget.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."})
    chain.do("lead2", "agree_recommendation", {"outcome": "agree"})
    chain.do("ordforande", "steering_decision", {"decision": "return", "rationale": "Räkna om kostnaden."})
    told = [(u, p["task"]["key"], t) for u, t, p in _notices(chain.db) if t.startswith("notice.task_")]
    assert told == [
        ("lead2", "task.review_report", "notice.task_arrived"),
        ("processledare", "task.draft_recommendation", "notice.task_arrived"),
        ("lead2", "task.agree_recommendation", "notice.task_arrived"),
        ("ordforande", "task.steering_decision", "notice.task_arrived"),
        ("processledare", "task.draft_recommendation", "notice.task_returned"),
    ]
    (returned,) = [p for u, t, p in _notices(chain.db, "notice.task_returned")]
    assert (returned["by"], returned["reason"]) == ("Styrgruppens ordförande (demo)", "Räkna om kostnaden.")


def test_opening_a_cycle_tells_each_owner_once_with_the_deadline(chain: Chain) -> None:
    with chain.db.reading() as session:
        cycle_id = session.scalars(select(ReportingCycle.id)).one()
        reports = session.execute(
            select(User.username, Activity.code)
            .join(Activity, Activity.owner_id == User.id)
            .join(OpenTask, OpenTask.activity_id == Activity.id)
            .where(OpenTask.name == "report_status")
        ).all()
    owners = {u for u, _ in reports}
    opened = _notices(chain.db, "notice.cycle_opened")
    assert sorted(u for u, _, _ in opened) == sorted(owners)  # each owner once
    for username, _, params in opened:
        assert (params["period"], params["deadline"]) == ("2026-Q4", "2026-12-15")
        assert params["activities"]["params"]["count"] == sum(1 for u, _ in reports if u == username)
    assert sum(p["activities"]["params"]["count"] for _, _, p in opened) == 60
    assert not _notices(chain.db, "notice.task_arrived")  # no notice per status report
    with chain.db.reading() as session:
        notice = session.scalars(select(Notice).where(Notice.template == "notice.cycle_opened")).first()
        assert notice is not None
        subject, body = notices.render(notice, "sv")
        assert subject == "Rapporteringsomgången 2026-Q4 har öppnat: rapportera senast 2026-12-15"
        assert "aktiviteter senast 2026-12-15" in body
    with chain.db.transaction() as session:  # told again (a resumed opening): nothing new
        assert arrivals.cycle_opened(session, session.get_one(ReportingCycle, cycle_id)) == 0
    assert len(_notices(chain.db, "notice.cycle_opened")) == len(owners)


def test_announcing_a_task_again_or_from_two_processes_at_once_adds_nothing(chain: Chain) -> None:
    chain.do(chain.owner_of("1.1.1"), "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("lead1", "review_report", "1.1.1").id
    before = _notices(chain.db)
    with chain.db.transaction() as session:
        assert arrivals.announce(session, {review: None}) == 0
    barrier, errors = threading.Barrier(2), []

    def announce() -> None:
        try:
            barrier.wait(10)
            with chain.db.transaction() as session:
                arrivals.expect(session, [review])
        except BaseException as exc:  # the test reports any failure of either side
            errors.append(exc)

    threads = [threading.Thread(target=announce) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and _notices(chain.db) == before


def test_a_task_made_and_done_in_one_transaction_is_not_announced(chain: Chain) -> None:
    """A proposal's first step is the proposer's form, done as the proposal is made: only the
    process leader's check that follows is announced."""
    with chain.db.transaction() as session:
        proposals.propose_activity(
            session,
            people.get_user(session, "lead1"),
            {
                "title": "Mentorskap för nya företagare",
                "intervention_area": "1.1",
                "owner": "anna.nilsson",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Fler företag överlever sitt första år.",
            },
        )
    told = [(u, p["task"]["key"], p["about"]) for u, _, p in _notices(chain.db, "notice.task_arrived")]
    assert told == [
        (
            "processledare",
            "task.check_proposal",
            {
                "key": "notice.about.proposal",
                "params": {"area": 1, "title": {"quote": "sv", "text": "Mentorskap för nya företagare"}},
            },
        )
    ]


def test_a_transaction_rolled_back_announces_nothing(chain: Chain) -> None:
    chain.do(chain.owner_of("1.1.1"), "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("lead1", "review_report", "1.1.1").id
    with chain.db.transaction() as session:  # forget it was told, so that telling again would show
        session.execute(delete(Notice).where(Notice.template == "notice.task_arrived"))
    with chain.db.sessions() as session:
        session.begin()
        arrivals.expect(session, [review])
        session.rollback()
        with session.begin():  # the same session's next transaction has nothing left over
            pass
        assert not _notices(chain.db, "notice.task_arrived")
        with session.begin():
            arrivals.expect(session, [review])
    assert [u for u, _, _ in _notices(chain.db, "notice.task_arrived")] == ["lead1"]


def test_each_person_chooses_their_own_mail_and_nobody_elses(seeded: Database) -> None:
    with seeded.transaction() as session:
        lead = people.get_user(session, "lead1")
        notices.set_mail_delivery(session, Actor(lead), "lead1", "immediate")
    with seeded.transaction() as session:
        lead = people.get_user(session, "lead1")
        with pytest.raises(Forbidden):
            notices.set_mail_delivery(session, Actor(lead), "lead2", "off")
        with pytest.raises(Forbidden):  # nor learns who exists by trying
            notices.set_mail_delivery(session, Actor(lead), "nobody.here", "off")
        with pytest.raises(InvalidInput):
            notices.set_mail_delivery(session, Actor(lead), "lead1", "hourly")
    with seeded.transaction() as session:
        admin = people.get_user(session, "admin")
        notices.set_mail_delivery(session, Actor(admin), "lead2", "off")
    with seeded.reading() as session:
        chosen = dict(session.execute(select(User.username, User.mail_delivery)).all())
        events = [(e.actor, e.subject_id, e.data) for e in audit.events(session, action="user.mail_delivery")]
    assert (chosen["lead1"], chosen["lead2"], chosen["lead3"]) == ("immediate", "off", "digest")
    assert sorted(events) == [
        ("admin", "lead2", {"delivery": "off"}),
        ("lead1", "lead1", {"delivery": "immediate"}),
    ]


@pytest.mark.parametrize(
    ("day", "made"),
    [
        (date(2026, 11, 7), 0),  # a Saturday
        (date(2026, 11, 8), 0),  # a Sunday
        (date(2026, 12, 25), 0),  # Christmas Day
        (date(2026, 12, 24), 0),  # Christmas Eve: a day off in Sweden
        (date(2026, 11, 9), 1),  # a Monday
    ],
)
def test_digests_are_made_on_working_days_only(seeded: Database, day: date, made: int) -> None:
    with seeded.transaction() as session:
        notices.queue(session, [people.get_user(session, "lead1")], "notice.reminder", {}, "x")
    assert notices.make_digests(seeded.transaction, day) == made
