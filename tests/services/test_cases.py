"""The case beside each task's form (services.views.cases): for each kind of task, what the person
deciding needs, read from the chain as it was walked, and what workflows/README.md ("What each
decision needs") says it shows. A returned task says who returned it, when and why, and holds what
was sent before; its inbox row says who returned it."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from planflow import clock, resources
from planflow.models import Activity, AnnualReport, Deviation, DeviationState, Status, StatusReport
from planflow.services.authority import people
from planflow.services.chain import annual, cycles, instances, proposals
from planflow.services.plan import plans
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR, Actor
from planflow.services.views import cases
from planflow.services.views.cases import Case

from .chain import Chain, small_plan


def case_for(chain: Chain, username: str, name: str, activity: str | None = None) -> Case:
    task = chain.task(username, name, activity)
    with chain.db.transaction() as session:
        return cases.case_of(session, people.get_user(session, username), task.id)


def name_of(chain: Chain, username: str) -> str:
    with chain.db.transaction() as session:
        return people.get_user(session, username).display_name


def readme_rows() -> dict[str, tuple[set[str], set[str]]]:
    """workflows/README.md's "What each decision needs": per form, the case's sections it always
    shows, and those it shows when the task was returned."""
    text = (resources.folder("workflows") / "README.md").read_text(encoding="utf-8")
    part = text.split("## What each decision needs", 1)[1].split("\n## ", 1)[0]
    names = {f.name for f in fields(Case)}
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        always, _, returned = cells[2].partition("when returned:")
        sections = [set(re.findall(r"`(\w+)`", words)) & names for words in (always, returned)]
        rows[cells[0].strip("`")] = (sections[0], sections[1])
    return rows


def shows_what_the_readme_says(case: Case, returned: bool = False) -> None:
    always, on_return = readme_rows()[case.name]
    wanted = always | (on_return if returned else set())
    missing = {name for name in wanted if getattr(case, name) in (None, ())}
    assert not missing, f"{case.name}'s case lacks {missing}, which workflows/README.md says it shows"
    assert (case.returned is not None) is returned, case.name


def test_every_form_has_a_case_builder_and_a_row_in_the_readme() -> None:
    forms = set(instances.library().forms.forms)
    assert forms <= set(cases.BUILDERS)
    assert set(readme_rows()) == forms


def test_a_report_to_make_shows_the_activity_and_its_last_reports(chain: Chain) -> None:
    case = case_for(chain, "anna.nilsson", "report_status", "1.1.1")
    assert (case.subject_code, case.returned, case.sent_before) == ("1.1.1", None, ())
    assert case.activity is not None and case.activity.code == "1.1.1" and case.activity.reports == ()
    shows_what_the_readme_says(case)


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
    shows_what_the_readme_says(case, returned=True)
    assert chain.task("anna.nilsson", "report_status", "1.1.1").returned_by == name_of(chain, "lead1")
    assert chain.task("erik.berg", "report_status", "1.1.2").returned_by is None


def test_a_review_shows_the_report_the_status_before_it_and_open_deviations(chain: Chain) -> None:
    with chain.db.transaction() as session:  # as an earlier period left 1.1.1: red, its deviation open
        activity = session.scalars(select(Activity).where(Activity.code == "1.1.1")).one()
        activity.status = Status.RED
        earlier = StatusReport(
            activity_id=activity.id,
            reporter_id=people.get_user(session, "anna.nilsson").id,
            status=Status.RED,
            cause="Upphandlingen överklagad.",
            reported_at=datetime(2026, 9, 1, tzinfo=UTC),
        )
        session.add(earlier)
        session.flush()
        session.add(
            Deviation(
                activity_id=activity.id,
                status_report_id=earlier.id,
                level=Status.RED,
                cause="Upphandlingen överklagad.",
                state=DeviationState.RECOMMENDED,
                opened_at=datetime(2026, 9, 2, tzinfo=UTC),
            )
        )
    chain.do(
        "anna.nilsson", "report_status", {"status": "yellow", "cause": "Dom väntas i december."}, "1.1.1"
    )

    case = case_for(chain, "lead1", "review_report", "1.1.1")
    assert case.report is not None
    assert (case.report.status, case.report.cause, case.report.previous_status) == (
        "yellow",
        "Dom väntas i december.",
        "red",
    )
    assert case.report.reporter_name == name_of(chain, "anna.nilsson")
    assert [d.cause for d in case.report.open_deviations] == ["Upphandlingen överklagad."]
    shows_what_the_readme_says(case)


def _report_area(chain: Chain, area: int) -> list[str]:
    with chain.db.transaction() as session:
        codes = session.scalars(select(Activity.code).order_by(Activity.id)).all()
    mine = [c for c in codes if c.startswith(f"{area}.")]
    chain.report_and_accept(mine[0], "yellow", cause="Försenad upphandling.")
    for code in mine[1:]:
        chain.report_and_accept(code)
    return mine


def test_an_area_is_summarised_confirmed_and_returned_with_its_reason(chain: Chain) -> None:
    codes = _report_area(chain, 2)
    case = case_for(chain, "lead2", "area_summary")
    assert case.area is not None and case.returned is None
    assert (case.subject_code, case.area.number, case.area.period) == ("2", 2, "2026-Q4")
    assert case.subject_title == case.area.title and case.area.title
    assert [r.code for r in case.area.reports] == codes
    first = case.area.reports[0]
    assert (first.status, first.cause, first.comment) == (
        "yellow",
        "Försenad upphandling.",
        f"{codes[0]} rapporterad",
    )
    assert {r.status for r in case.area.reports[1:]} == {"green"}
    shows_what_the_readme_says(case)

    chain.do("lead2", "area_summary", {"summary": "Allt enligt plan utom en upphandling."})
    confirm = case_for(chain, "processledare", "confirm_area")
    assert confirm.area is not None and confirm.area.summary == "Allt enligt plan utom en upphandling."
    assert confirm.area.summarised_by == name_of(chain, "lead2") and confirm.area.reports == case.area.reports
    shows_what_the_readme_says(confirm)

    chain.do("processledare", "confirm_area", {"outcome": "return", "comment": "Säg vilken upphandling."})
    returned = case_for(chain, "lead2", "area_summary")
    assert returned.returned is not None
    assert (returned.returned.by, returned.returned.reason) == (
        name_of(chain, "processledare"),
        "Säg vilken upphandling.",
    )
    assert returned.prefill() == {"summary": "Allt enligt plan utom en upphandling."}
    shows_what_the_readme_says(returned, returned=True)
    assert chain.task("lead2", "area_summary").returned_by == name_of(chain, "processledare")


def test_a_deviation_shows_its_recommendation_and_every_return_with_its_reason(chain: Chain) -> None:
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")
    first = case_for(chain, "processledare", "draft_recommendation", "1.1.1")
    assert first.deviation is not None and first.returned is None
    assert (first.deviation.level, first.deviation.cause) == (Status.RED, "Ingen budget.")
    assert first.activity is not None and first.activity.reports[0].cause == "Ingen budget."
    shows_what_the_readme_says(first)

    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "1.1.1")
    agree = case_for(chain, "lead1", "agree_recommendation", "1.1.1")
    assert agree.deviation is not None and agree.deviation.recommendation == "Skjut upp."
    shows_what_the_readme_says(agree)
    chain.do("lead1", "agree_recommendation", {"outcome": "return", "comment": "Saknar tidplan."}, "1.1.1")

    back = case_for(chain, "processledare", "draft_recommendation", "1.1.1")
    assert back.returned is not None
    assert (back.returned.by, back.returned.reason, back.returned.step) == (
        name_of(chain, "lead1"),
        "Saknar tidplan.",
        "agree_recommendation",
    )
    assert back.prefill() == {"recommendation": "Skjut upp."}
    shows_what_the_readme_says(back, returned=True)
    assert chain.task("processledare", "draft_recommendation", "1.1.1").returned_by == name_of(chain, "lead1")

    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp till maj."}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    decide = case_for(chain, "ordforande", "steering_decision", "1.1.1")
    assert decide.deviation is not None and decide.deviation.recommendation == "Skjut upp till maj."
    assert [(r.step, r.reason) for r in decide.deviation.returns] == [
        ("agree_recommendation", "Saknar tidplan.")
    ]
    shows_what_the_readme_says(decide)

    chain.do("ordforande", "steering_decision", {"decision": "return", "rationale": "Mer underlag."}, "1.1.1")
    again = case_for(chain, "processledare", "draft_recommendation", "1.1.1")
    assert again.returned is not None and again.deviation is not None
    assert (again.returned.by, again.returned.reason, again.returned.step) == (
        name_of(chain, "ordforande"),
        "Mer underlag.",
        "steering_decision",
    )
    assert [r.reason for r in again.deviation.returns] == ["Saknar tidplan.", "Mer underlag."]
    assert [(d.decision, d.rationale) for d in again.deviation.decisions] == [("return", "Mer underlag.")]
    assert again.activity is not None and again.activity.deviations[0].decisions[0].decision == "return"
    assert chain.task("processledare", "draft_recommendation", "1.1.1").returned_by == name_of(
        chain, "ordforande"
    )


PROPOSAL = {
    "title": "Lokalguide för nyetablerade företag",
    "intervention_area": "3.4",
    "owner": "johan.ek",
    "start": "2027-01-01",
    "end": "2027-12-31",
    "why": "Efterfrågat i Näringslivsrådet.",
}


def test_a_proposal_is_shown_in_full_and_a_returned_one_holds_what_was_proposed(chain: Chain) -> None:
    with chain.db.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, "lead3"), PROPOSAL)
    check = case_for(chain, "processledare", "check_proposal")
    p = check.proposal
    assert p is not None
    assert (p.title, p.intervention_area, p.owner_name, p.starts_on, p.ends_on, p.why) == (
        PROPOSAL["title"],
        "3.4",
        name_of(chain, "johan.ek"),
        date(2027, 1, 1),
        date(2027, 12, 31),
        PROPOSAL["why"],
    )
    assert p.intervention_area_title and p.proposed_by == name_of(chain, "lead3") and p.state == "proposed"
    assert check.subject_title == PROPOSAL["title"]
    shows_what_the_readme_says(check)

    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": "Vem finansierar?"})
    back = case_for(chain, "lead3", "propose_activity")
    assert back.returned is not None
    assert (back.returned.by, back.returned.reason) == (name_of(chain, "processledare"), "Vem finansierar?")
    assert back.prefill() == PROPOSAL
    shows_what_the_readme_says(back, returned=True)
    assert chain.task("lead3", "propose_activity").returned_by == name_of(chain, "processledare")

    chain.do("lead3", "propose_activity", PROPOSAL)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    decide = case_for(chain, "ordforande", "decide_proposal")
    assert decide.proposal is not None and decide.proposal.state == "checked"
    assert [r.reason for r in decide.proposal.returns] == ["Vem finansierar?"]
    shows_what_the_readme_says(decide)

    chain.do("ordforande", "decide_proposal", {"decision": "return", "rationale": "Samordna med 3.4.1."})
    sent_back = case_for(chain, "lead3", "propose_activity")
    assert sent_back.returned is not None and sent_back.returned.reason == "Samordna med 3.4.1."
    assert sent_back.returned.step == "decide_proposal"


def test_the_dialogue_shows_every_feedback_with_who_and_when(chain: Chain, tmp_path: Path) -> None:
    with chain.db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, small_plan(tmp_path))
        spec = people.RoleSpec.parse("focus_area_lead:liten/1")
        people.grant_role(session, OPERATOR_ACTOR, people.get_user(session, "lead1"), spec)
        leader = Actor(people.get_user(session, "processledare"))
        cycle = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15), plan_slug="liten")
    cycles.open_all(chain.db.transaction, cycle.id)
    chain.do("lead1", "area_summary", {"summary": "Inget att rapportera."})
    chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    with chain.db.transaction() as session:
        cycles.give_dialogue_feedback(
            session,
            people.get_user(session, "naringslivsradet"),
            "2026-Q4",
            {"feedback": "Fler besök."},
            "liten",
        )

    case = case_for(chain, "processledare", "business_dialogue")
    assert case.feedback is not None and (case.plan, case.subject_code) == ("liten", "2026-Q4")
    (given,) = case.feedback.feedback
    assert (given.author, given.feedback) == (name_of(chain, "naringslivsradet"), "Fler besök.")
    assert given.given_at == clock.now()
    shows_what_the_readme_says(case)


def test_the_meeting_shows_its_queue_its_decisions_and_what_is_still_open(chain: Chain) -> None:
    for code, level in (("1.1.1", "red"), ("1.1.2", "yellow"), ("1.1.3", "red")):
        chain.report_and_accept(code, level, cause=f"Orsak {code}.")
        chain.do("processledare", "draft_recommendation", {"recommendation": f"Åtgärd {code}."}, code)
        chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, code)
    chain.do("ordforande", "steering_decision", {"decision": "return", "rationale": "Mer underlag."}, "1.1.1")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Godtas."}, "1.1.2")
    while reports := [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        for task in reports:
            chain.report_and_accept(task.activity_code or "")
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    chain.do(
        "processledare", "business_dialogue", {"forums": ["Rådet"], "held_on": "2026-11-20", "heard": "-"}
    )

    case = case_for(chain, "ordforande", "steering_meeting")
    meeting = case.meeting
    assert meeting is not None and meeting.period == "2026-Q4" == case.subject_code
    assert [q.activity_code for q in meeting.queue] == ["1.1.3"]
    assert [(d.activity_code, d.decision, d.rationale) for d in meeting.decisions] == [
        ("1.1.1", "return", "Mer underlag."),
        ("1.1.2", "approve", "Godtas."),
    ]
    assert [(s.activity_code, s.returned, s.state) for s in meeting.still_open] == [("1.1.1", True, "open")]
    shows_what_the_readme_says(case)


def test_the_annual_report_tasks_show_the_report_and_who_did_what_when(chain: Chain) -> None:
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    with chain.db.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    compile_case = case_for(chain, "processledare", "compile_annual_report")
    assert compile_case.annual is not None and compile_case.annual.state == "compiling"
    assert compile_case.annual.page == "/reports/annual/2026" and compile_case.subject_code == "2026"
    shows_what_the_readme_says(compile_case)

    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs."})
    approve = case_for(chain, "ordforande", "approve_annual_report")
    report = approve.annual
    assert report is not None and report.state == "compiled" and report.summary == "Planen följs."
    assert (report.activities, report.unreported, report.compiled_by) == (
        60,
        60,
        name_of(chain, "processledare"),
    )
    shows_what_the_readme_says(approve)

    chain.do("ordforande", "approve_annual_report", {"outcome": "return", "comment": "Lägg till fokus 5."})
    back = case_for(chain, "processledare", "compile_annual_report")
    assert back.returned is not None
    assert (back.returned.by, back.returned.reason) == (name_of(chain, "ordforande"), "Lägg till fokus 5.")
    assert back.prefill() == {"summary": "Planen följs."}
    shows_what_the_readme_says(back, returned=True)
    assert chain.task("processledare", "compile_annual_report").returned_by == name_of(chain, "ordforande")

    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs; fokus 5 försenat."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    note = case_for(chain, "kommunstyrelsen", "board_note")
    assert note.annual is not None and note.annual.approved_at is not None
    assert [d.decision for d in note.annual.approvals] == ["return", "approve"]
    assert note.returned is None
    shows_what_the_readme_says(note)

    chain.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2027-01-20", "paragraph": "KS § 12"}
    )
    with chain.db.transaction() as session:
        stored = session.scalars(select(AnnualReport)).one()
        assert (stored.board_decided_on, stored.board_paragraph) == (date(2027, 1, 20), "KS § 12")
        noted = audit.events(session, action="annual_report.noted")[0]
        assert (noted.data["decided_on"], noted.data["paragraph"]) == ("2027-01-20", "KS § 12")
