"""The case beside each task's form (services.views.cases): for each kind of task, what the person
deciding needs, read from the chain as it was walked; a returned task says who returned it, when
and why, and holds what was sent before."""

from __future__ import annotations

from planflow.services.authority import people
from planflow.services.chain import instances
from planflow.services.views import cases
from planflow.services.views.cases import Case

from .chain import Chain


def case_for(chain: Chain, username: str, name: str, activity: str | None = None) -> Case:
    task = chain.task(username, name, activity)
    with chain.db.transaction() as session:
        return cases.case_of(session, people.get_user(session, username), task.id)


def name_of(chain: Chain, username: str) -> str:
    with chain.db.transaction() as session:
        return people.get_user(session, username).display_name


def test_every_form_has_a_case_builder() -> None:
    assert set(instances.library().forms.forms) <= set(cases.BUILDERS)


def test_a_report_to_make_shows_the_activity_and_its_last_reports(chain: Chain) -> None:
    case = case_for(chain, "anna.nilsson", "report_status", "1.1.1")
    assert (case.name, case.subject_code, case.returned, case.sent_before) == (
        "report_status",
        "1.1.1",
        None,
        (),
    )
    assert case.activity is not None and case.activity.code == "1.1.1" and case.activity.reports == ()


def test_a_returned_report_says_who_returned_it_why_and_holds_what_was_sent(chain: Chain) -> None:
    sent = {"status": "red", "comment": "Stoppad.", "cause": "Ingen budget."}
    chain.do("anna.nilsson", "report_status", sent, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange när budgeten kommer."}, "1.1.1")

    case = case_for(chain, "anna.nilsson", "report_status", "1.1.1")
    assert case.returned is not None
    assert (case.returned.by, case.returned.reason, case.returned.step) == (
        name_of(chain, "lead1"),
        "Ange när budgeten kommer.",
        "review_report",
    )
    assert case.prefill() == sent
    assert case.activity is not None and case.activity.reports[0].review == "returned"
    row = chain.task("anna.nilsson", "report_status", "1.1.1")
    assert row.returned_by == name_of(chain, "lead1")
