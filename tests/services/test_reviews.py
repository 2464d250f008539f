"""Whose a task is (access.shared_tasks / task_people) and accepting green reports together
(reviews.accept_green_reports): a role one person holds is that person's without a claim, four
eyes and claims count; each accepted review is its own completion with its own audit event, and a
refusal of one leaves the others accepted; every completed task says who did it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planflow.models import AuditEvent, CompletedTask, ReviewOutcome, StatusReport
from planflow.services.authority import people
from planflow.services.chain import reviews, tasks
from planflow.services.errors import InvalidInput
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.services.views import history

from .chain import Chain


def _shared(chain: Chain, username: str) -> dict[str | None, bool]:
    return {t.activity_code: t.shared for t in chain.inbox(username)}


def _second_lead(chain: Chain, area: int = 1) -> None:
    with chain.db.transaction() as session:
        people.add_user(
            session,
            OPERATOR_ACTOR,
            f"andra.lead{area}",
            f"Andra ansvarig {area}",
            f"andra{area}@example.org",
            [people.RoleSpec.parse(f"focus_area_lead:{area}")],
        )


def test_a_task_is_one_persons_unless_more_than_one_may_act_on_it(chain: Chain) -> None:
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    chain.do("erik.berg", "report_status", {"status": "green"}, "1.1.2")
    chain.do("sara.lind", "report_status", {"status": "green"}, "2.1.1")
    assert not any(_shared(chain, "anna.nilsson").values())  # an owner's tasks are the owner's
    assert _shared(chain, "lead1") == {"1.1.1": False, "1.1.2": False}  # the area's one lead
    _second_lead(chain)
    assert _shared(chain, "lead1") == {"1.1.1": True, "1.1.2": True}  # two leads: their queue
    assert _shared(chain, "lead2") == {"2.1.1": False}  # another area's lead alone
    claimed = chain.task("lead1", "review_report", "1.1.1").id
    with chain.db.transaction() as session:  # a claim makes it the claimer's
        tasks.claim(session, people.get_user(session, "lead1"), claimed)
    assert _shared(chain, "lead1") == {"1.1.1": False, "1.1.2": True}
    # Four eyes: the second lead owns 1.1.2 now; the review is the first lead's alone, though the
    # area has two leads, and the process leader's too (a lead's own report), so shared again.
    with chain.db.transaction() as session:
        people.set_activity_owner(session, OPERATOR_ACTOR, "1.1.2", "andra.lead1")
    assert _shared(chain, "lead1")["1.1.2"] is True
    assert _shared(chain, "processledare") == {"1.1.2": True}


def test_a_leads_own_report_is_the_process_leaders_alone_where_the_lead_is_alone(chain: Chain) -> None:
    with chain.db.transaction() as session:
        people.set_activity_owner(session, OPERATOR_ACTOR, "1.1.1", "lead1")
    chain.do("lead1", "report_status", {"status": "green"}, "1.1.1")
    assert _shared(chain, "processledare") == {"1.1.1": False}
    assert "1.1.1" not in _shared(chain, "lead1")


def test_green_reports_are_accepted_together_each_its_own_completion(chain: Chain) -> None:
    for owner, code, status in (
        ("anna.nilsson", "1.1.1", "green"),
        ("erik.berg", "1.1.2", "green"),
        ("anna.nilsson", "1.1.3", "green"),
        ("erik.berg", "1.1.4", "red"),
    ):
        data = {"status": status, **({"cause": "Stopp."} if status == "red" else {})}
        chain.do(owner, "report_status", data, code)
    ids = {t.activity_code: t.id for t in chain.inbox("lead1")}
    with chain.db.transaction() as session:
        lead = people.get_user(session, "lead1")
        chosen = reviews.selected(session, lead, list(ids.values()))
        assert [v.activity_code for v in chosen.acceptable] == ["1.1.1", "1.1.2", "1.1.3"]
        assert [(r.activity_code, r.message.key) for r in chosen.refused] == [
            ("1.1.4", "error.review.not_green")
        ]
    with chain.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(CompletedTask)) == 4  # the reports
        done = reviews.accept_green_reports(session, people.get_user(session, "lead1"), list(ids.values()))
    assert [v.activity_code for v in done.accepted] == ["1.1.1", "1.1.2", "1.1.3"]
    assert [(r.activity_code, r.message.key) for r in done.refused] == [("1.1.4", "error.review.not_green")]
    with chain.db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "status.accepted")).all()
        assert sorted(e.subject_id for e in events) == ["1.1.1", "1.1.2", "1.1.3"]
        assert (
            session.scalar(
                select(func.count())
                .select_from(StatusReport)
                .where(StatusReport.review == ReviewOutcome.ACCEPTED)
            )
            == 3
        )
        for code in ("1.1.1", "1.1.2", "1.1.3"):
            completion = history.completed_by(session, ids[code])
            assert completion is not None and completion.name == "review_report"
            assert completion.by.startswith("Fokusområdesansvarig 1")
        assert history.completed_by(session, ids["1.1.4"]) is None  # still open
    # Refused on its own, the rest accepted: one done already, one another lead's, one accepted now.
    for code in ("2.1.1", "1.3.1"):
        chain.do(chain.owner_of(code), "report_status", {"status": "green"}, code)
    other_area = chain.task("lead2", "review_report", "2.1.1").id
    fresh = chain.task("lead1", "review_report", "1.3.1").id
    with chain.db.transaction() as session:
        done = reviews.accept_green_reports(
            session, people.get_user(session, "lead1"), [ids["1.1.1"], other_area, fresh]
        )
    assert [v.activity_code for v in done.accepted] == ["1.3.1"]
    assert [(r.activity_code, r.message.key) for r in done.refused] == [
        ("1.1.1", "error.task.done_by"),
        ("2.1.1", "error.access.task"),
    ]
    assert "2.1.1" in {t.activity_code for t in chain.inbox("lead2")}


def test_an_act_of_accepting_is_bounded(chain: Chain) -> None:
    with chain.db.transaction() as session:
        lead = people.get_user(session, "lead1")
        for ids in ([], [f"00000000-0000-4000-8000-{n:012d}" for n in range(reviews.ACCEPT_MOST + 1)], ["x"]):
            with pytest.raises(InvalidInput):
                reviews.accept_green_reports(session, lead, ids)
