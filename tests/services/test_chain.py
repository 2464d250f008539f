"""The whole reporting chain on the seed plan, driven through the services as its users would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import (
    Activity,
    ActivityState,
    AnnualReport,
    AnnualReportState,
    AuditEvent,
    BusinessDialogue,
    CycleState,
    DecidingBody,
    Decision,
    Deviation,
    DeviationState,
    DialogueFeedback,
    Notice,
    OpenTask,
    ReportingCycle,
    StatusReport,
    User,
)
from planflow.services.authority import people
from planflow.services.chain import annual, cycles, deviations, proposals, tasks, timers
from planflow.services.errors import Conflict, Forbidden, InvalidInput
from planflow.services.outputs import notices
from planflow.services.plan import plans
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

from .chain import START, Chain


def _codes(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(Activity.code).order_by(Activity.id)))


def _count(db: Database, model: type, *where: object) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _close_areas(chain: Chain) -> None:
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area} följer planen."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})


def _run_cycle_to_its_meeting(chain: Chain) -> None:
    """Every open report accepted green, the areas confirmed, the dialogue held, the meeting closed."""
    while reports := [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        for task in reports:
            chain.report_and_accept(task.activity_code or "")
    _close_areas(chain)
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "-"},
    )
    chain.do("ordforande", "steering_meeting", {"notes": "Noterat."})


def test_green_path_runs_the_whole_chain_to_the_steering_group(chain: Chain) -> None:
    db = chain.db
    assert _count(db, OpenTask, OpenTask.name == "report_status") == 60
    for code in _codes(db):
        chain.report_and_accept(code)
    assert _count(db, Activity, Activity.status == "green") == 60
    assert [t.name for t in chain.inbox("lead3")] == ["area_summary"]
    assert chain.inbox("processledare") == []  # the dialogue waits for all five areas

    _close_areas(chain)
    assert [t.name for t in chain.inbox("processledare")] == ["business_dialogue"]
    assert [t.name for t in chain.inbox("naringslivsradet")] == []  # feedback is not a task of its own
    with db.transaction() as session:
        assert cycles.open_for_feedback(session) == ["2026-Q4"]
        cycles.give_dialogue_feedback(
            session,
            people.get_user(session, "naringslivsradet"),
            "2026-Q4",
            {"feedback": "Fler företagsbesök."},
        )
    chain.do(
        "processledare",
        "business_dialogue",
        {
            "forums": ["Näringslivsrådet", "Frukostklubben"],
            "held_on": "2026-11-20",
            "heard": "Nöjda med takten.",
        },
    )
    with db.transaction() as session, pytest.raises(Conflict, match="not open for feedback"):
        cycles.give_dialogue_feedback(
            session, people.get_user(session, "naringslivsradet"), "2026-Q4", {"feedback": "Sent"}
        )

    meeting = chain.task("ordforande", "steering_meeting")
    assert meeting.id not in [t.id for t in chain.inbox("styrgrupp.nk")]
    with db.transaction() as session:
        tasks.save_draft(session, people.get_user(session, "ordforande"), meeting.id, {"notes": "Utkast"})
    with pytest.raises(Forbidden) as refused:
        chain.complete("styrgrupp.nk", meeting.id, {"notes": "Noterat."})
    assert refused.value.code == "error.access.task"
    chain.complete(
        "ordforande", meeting.id, {"notes": "Styrgruppen noterar status.", "priorities": "Fokus 3"}
    )

    with db.transaction() as session:
        cycle = cycles.get_cycle(session, "2026-Q4")
        assert cycle.state is CycleState.REPORTED
        assert session.scalar(select(BusinessDialogue.forums)) == ["Näringslivsrådet", "Frukostklubben"]
        assert session.scalar(select(func.count()).select_from(DialogueFeedback)) == 1
        assert session.scalar(select(func.count()).select_from(Deviation)) == 0
        assert session.scalar(select(func.count()).select_from(OpenTask)) == 0
        assert audit.verify(session).intact
        meeting_event = audit.events(session, action="steering.meeting_closed")[0]
        assert meeting_event.actor == "ordforande"


def test_yellow_report_opens_deviation_decided_by_the_steering_group(chain: Chain) -> None:
    db = chain.db
    chain.report_and_accept("2.1.1", "yellow", cause="Lärosätet har skjutit upp starten.")
    with db.transaction() as session:
        deviation = session.scalars(select(Deviation)).one()
        assert (deviation.level, deviation.cause) == ("yellow", "Lärosätet har skjutit upp starten.")
        assert session.scalar(select(Activity.status).where(Activity.code == "2.1.1")) == "yellow"

    chain.do("processledare", "draft_recommendation", {"recommendation": "Ny tidplan med KTH."})
    chain.do("lead2", "agree_recommendation", {"outcome": "return", "comment": "Ta med Campus Telge."})
    chain.do(
        "processledare", "draft_recommendation", {"recommendation": "Ny tidplan med KTH och Campus Telge."}
    )
    chain.do("lead2", "agree_recommendation", {"outcome": "agree"})
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Rimlig åtgärd."})

    with db.transaction() as session:
        deviation = session.scalars(select(Deviation)).one()
        assert deviation.state is DeviationState.DECIDED
        assert deviation.recommendation == "Ny tidplan med KTH och Campus Telge."
        assert deviation.escalated_at is None
        decision = session.scalars(select(Decision)).one()
        assert (decision.body, decision.decision, decision.rationale, decision.decided_by.username) == (
            DecidingBody.STEERING_GROUP,
            "approve",
            "Rimlig åtgärd.",
            "ordforande",
        )
        owner = session.scalars(
            select(User).join(Activity, Activity.owner_id == User.id).where(Activity.code == "2.1.1")
        ).one()
        notice = session.scalars(select(Notice).where(Notice.template == "notice.decision")).one()
        assert notice.recipient_id == owner.id
        assert notices.render(notice, "sv")[1].startswith("Beslut: Rekommendationen godkänd")
        assert notices.render(notice, "en")[1].startswith("Decision: Recommendation approved")
        actions = [e.action for e in reversed(audit.events(session, subject_type="deviation"))]
        assert actions == [
            "deviation.opened",
            "deviation.recommended",
            "deviation.recommendation_returned",
            "deviation.recommended",
            "deviation.recommendation_agreed",
            "deviation.decided",
            "deviation.owner_informed",
        ]


def test_red_deviation_without_decision_escalates_after_14_days(chain: Chain) -> None:
    db = chain.db
    chain.report_and_accept("3.4.2", "red", cause="Inga lokaler registrerade.")
    assert timers.fire_due_timers(db.transaction, START + timedelta(days=13)) == 0
    clock.set_now(START + timedelta(days=14, seconds=1))
    assert timers.fire_due_timers(db.transaction, clock.now()) == 1
    assert timers.fire_due_timers(db.transaction, clock.now()) == 0  # nothing left to fire
    with db.transaction() as session:
        deviation = session.scalars(select(Deviation)).one()
        assert deviation.escalated_at == START + timedelta(days=14, seconds=1)
        recipients = set(
            session.scalars(
                select(User.username)
                .join(Notice, Notice.recipient_id == User.id)
                .where(Notice.template == "notice.escalation")
            )
        )
        assert recipients == {"ordforande", "processledare"}
        (event,) = audit.events(session, action="deviation.escalated")
        assert (event.actor, event.data["after_days"]) == ("system", 14)
    # the handling goes on: the escalation did not interrupt it
    chain.do("processledare", "draft_recommendation", {"recommendation": "Avsluta aktiviteten."})
    chain.do("lead3", "agree_recommendation", {"outcome": "agree"})
    chain.do(
        "ordforande", "steering_decision", {"decision": "close", "rationale": "Ersätts av ny aktivitet."}
    )
    with db.transaction() as session:
        assert session.scalar(select(Activity.state).where(Activity.code == "3.4.2")) is ActivityState.CLOSED


def test_yellow_deviation_is_not_escalated(chain: Chain) -> None:
    chain.report_and_accept("1.1.1", "yellow", cause="Färre besök än planerat.")
    assert timers.fire_due_timers(chain.db.transaction, START + timedelta(days=30)) == 1
    with chain.db.transaction() as session:
        assert session.scalars(select(Deviation.escalated_at)).one() is None
        assert audit.events(session, action="deviation.escalated") == []


def test_report_returned_by_lead_is_sent_again(chain: Chain) -> None:
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange antal besök."}, "1.1.1")
    again = chain.task("anna.nilsson", "report_status", "1.1.1")
    chain.complete("anna.nilsson", again.id, {"status": "green", "comment": "12 besök hittills."})
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    with chain.db.transaction() as session:
        reports = session.scalars(select(StatusReport).order_by(StatusReport.id)).all()
        assert [(r.review, r.comment) for r in reports] == [
            ("returned", None),
            ("accepted", "12 besök hittills."),
        ]
        assert reports[0].review_comment == "Ange antal besök."


def test_meeting_closes_only_when_the_steering_queue_is_decided(chain: Chain) -> None:
    db = chain.db
    for code in _codes(db):
        chain.report_and_accept(
            code, "red" if code == "4.2.1" else "green", cause="Resursbrist." if code == "4.2.1" else None
        )
    chain.do("processledare", "draft_recommendation", {"recommendation": "Förstärk handläggningen."})
    chain.do("lead4", "agree_recommendation", {"outcome": "agree"})
    _close_areas(chain)
    chain.do(
        "processledare",
        "business_dialogue",
        {
            "forums": ["Entreprenörsrådet"],
            "held_on": "2026-11-25",
            "heard": "Handläggningstiderna är för långa.",
        },
    )
    with db.transaction() as session:
        plan_id = plans.get_plan(session).id
        (waiting,) = deviations.awaiting_steering_group(session, plan_id)
        assert (waiting.activity_code, waiting.level) == ("4.2.1", "red")
    meeting = chain.task("ordforande", "steering_meeting")
    with pytest.raises(InvalidInput) as refused:
        chain.complete("ordforande", meeting.id, {"notes": "Noterat."})
    assert refused.value.code == "error.steering.undecided"
    assert "4.2.1" in refused.value.render("sv")
    chain.complete("ordforande", waiting.task_id, {"decision": "reprioritise", "rationale": "Prio 1 i år."})
    chain.complete("ordforande", meeting.id, {"notes": "Noterat."})
    with db.transaction() as session:
        assert deviations.awaiting_steering_group(session, plan_id) == []
        (decision,) = session.scalars(select(Decision)).all()
        assert (decision.decision, decision.body) == ("reprioritise", DecidingBody.STEERING_GROUP)
        assert session.scalar(select(func.count()).select_from(OpenTask)) == 0
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.REPORTED


def test_new_activity_approved_joins_the_plan_and_the_next_cycle(chain: Chain) -> None:
    db = chain.db
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
    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": "Vem äger den?"})
    chain.do("lead3", "propose_activity", proposal)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Stärker etableringen."})
    with db.transaction() as session:
        activity = session.scalars(select(Activity).where(Activity.code == "3.4.4")).one()
        assert (activity.title, activity.owner.username) == (
            "Lokalguide för nyetablerade företag",
            "johan.ek",
        )
        assert audit.events(session, action="activity.added")[0].subject_id == "3.4.4"
    _run_cycle_to_its_meeting(chain)
    chain.start_cycle("2027-Q1", date(2027, 3, 31))
    assert chain.task("johan.ek", "report_status", "3.4.4")


def test_proposal_outside_the_leads_area_is_refused(seeded: Database) -> None:
    proposal = {
        "title": "X",
        "intervention_area": "3.4",
        "owner": "johan.ek",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Y",
    }
    with seeded.transaction() as session, pytest.raises(Forbidden) as refused:
        proposals.propose_activity(session, people.get_user(session, "lead1"), proposal)
    assert refused.value.code == "error.access.use_case"
    assert "lead1" in refused.value.render("sv")


def test_annual_report_is_taken_note_of_by_the_board(chain: Chain) -> None:
    db = chain.db
    chain.report_and_accept("5.1.1", "yellow", cause="Försenad lansering.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Lansera i mars."})
    chain.do("lead5", "agree_recommendation", {"outcome": "agree"})
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Ok."})
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    with db.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs i stort."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "return", "comment": "Lägg till fokus 5."})
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs; fokus 5 försenat."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    assert "board_note" not in {t.name for t in chain.inbox("processledare")}
    assert [t.name for t in chain.inbox("kommunstyrelsen")] == ["board_note"]
    chain.do(
        "kommunstyrelsen",
        "board_note",
        {
            "noted": True,
            "decided_on": "2026-12-14",
            "paragraph": "§ 201",
            "comment": "Lägges till handlingarna.",
        },
    )
    with db.transaction() as session:
        report = session.scalars(select(AnnualReport)).one()
        assert report.state is AnnualReportState.NOTED and report.summary == "Planen följs; fokus 5 försenat."
        assert sum(report.snapshot["totals"].values()) == 60
        (deviation,) = report.snapshot["deviations"]
        assert (deviation["activity_code"], deviation["decision"]) == ("5.1.1", "approve")
        assert audit.events(session, action="annual_report.noted")[0].actor == "kommunstyrelsen"


def test_double_completion_is_refused_and_decides_once(chain: Chain) -> None:
    task_id = chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    with pytest.raises(Conflict) as refused:
        chain.complete("anna.nilsson", task_id, {"status": "red", "cause": "Ändrat mig"})
    assert refused.value.code == "error.task.done_by"  # saying who did it, and when
    assert refused.value.params["by"] == "Anna Nilsson (demo)"
    assert _count(chain.db, StatusReport) == 1
    with chain.db.transaction() as session:
        assert len(audit.events(session, action="status.reported")) == 1


def test_user_outside_the_scope_is_refused(chain: Chain) -> None:
    report = chain.task("anna.nilsson", "report_status", "1.1.1")
    with pytest.raises(Forbidden):
        chain.complete("erik.berg", report.id, {"status": "green"})  # another owner
    chain.complete("anna.nilsson", report.id, {"status": "green"})
    review = chain.task("lead1", "review_report", "1.1.1")
    for outsider in ("lead2", "processledare", "kommunstyrelsen", "naringslivsradet"):
        assert review.id not in [t.id for t in chain.inbox(outsider)]
        with pytest.raises(Forbidden):
            chain.complete(outsider, review.id, {"outcome": "accept"})


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"status": "yellow"}, {"cause": "form.required"}),
        ({"status": "purple"}, {"status": "form.one_of"}),
        ({"status": "green", "owner": "me"}, {"owner": "form.unknown_field"}),
        ({"status": "red", "cause": "   "}, {"cause": "form.blank"}),
        ({}, {"status": "form.required"}),
        ("green", {"": "form.not_an_object"}),
    ],
)
def test_schema_violations_are_refused_with_nothing_changed(
    chain: Chain, data: object, errors: dict[str, str]
) -> None:
    with chain.db.transaction() as session:
        before = (
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(StatusReport)),
        )
    report = chain.task("anna.nilsson", "report_status", "1.1.1")
    with pytest.raises(InvalidInput) as refused:
        chain.complete("anna.nilsson", report.id, data)
    assert {field: message.key for field, message in refused.value.fields.items()} == errors
    assert refused.value.fields and refused.value.render("en") != refused.value.render("sv")
    with chain.db.transaction() as session:
        after = (
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(StatusReport)),
        )
    assert after == before
    assert chain.task("anna.nilsson", "report_status", "1.1.1").id == report.id


def test_claimed_group_task_leaves_the_others_inboxes(chain: Chain) -> None:
    with chain.db.transaction() as session:  # a second lead for focus area 2
        people.grant_role(
            session,
            OPERATOR_ACTOR,
            people.get_user(session, "styrgrupp.ak"),
            people.RoleSpec.parse("focus_area_lead:2"),
        )
    chain.do("sara.lind", "report_status", {"status": "green"}, "2.1.1")
    review = chain.task("lead2", "review_report", "2.1.1")
    assert review.id in [t.id for t in chain.inbox("styrgrupp.ak")]
    with chain.db.transaction() as session:
        tasks.claim(session, people.get_user(session, "styrgrupp.ak"), review.id)
    assert review.id not in [t.id for t in chain.inbox("lead2")]
    with pytest.raises(Forbidden):
        chain.complete("lead2", review.id, {"outcome": "accept"})
    with chain.db.transaction() as session:
        tasks.unclaim(session, people.get_user(session, "styrgrupp.ak"), review.id)
    assert review.id in [t.id for t in chain.inbox("lead2")]


def test_substitute_acts_on_behalf_and_the_audit_says_so(chain: Chain) -> None:
    with chain.db.transaction() as session:
        people.add_substitute(
            session,
            Actor(people.get_user(session, "admin")),
            "anna.nilsson",
            "erik.berg",
            date(2026, 11, 1),
            date(2026, 11, 30),
        )
    report = chain.task("erik.berg", "report_status", "1.1.1")
    chain.complete("erik.berg", report.id, {"status": "green"})
    with chain.db.transaction() as session:
        (event,) = audit.events(session, action="status.reported")
        assert (event.actor, event.on_behalf_of) == ("erik.berg", "anna.nilsson")


def test_admin_reassigns_a_task_only_to_someone_who_may_do_it(chain: Chain) -> None:
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("lead1", "review_report", "1.1.1")
    with chain.db.transaction() as session:
        admin = Actor(people.get_user(session, "admin"))
        with pytest.raises(InvalidInput):
            tasks.reassign(session, admin, review.id, "lead1", "  ")
        with pytest.raises(Forbidden):
            tasks.reassign(session, Actor(people.get_user(session, "lead1")), review.id, "lead1", "x")
    with chain.db.transaction() as session, pytest.raises(InvalidInput) as refused:
        tasks.reassign(session, Actor(people.get_user(session, "admin")), review.id, "erik.berg", "Semester.")
    assert refused.value.code == "error.task.reassign_without_right"
    with chain.db.transaction() as session:
        tasks.reassign(
            session, Actor(people.get_user(session, "admin")), review.id, "lead1", "Lead1 tar den."
        )
    assert [t.assignee for t in chain.inbox("lead1") if t.id == review.id] == ["lead1"]
    chain.complete("lead1", review.id, {"outcome": "accept"})
    with chain.db.transaction() as session:
        (event,) = audit.events(session, action="task.reassigned")
        assert (event.actor, event.reason) == ("admin", "Lead1 tar den.")


def test_tampered_audit_row_is_caught(chain: Chain, cli: object) -> None:
    chain.report_and_accept("1.1.1")
    assert cli("audit", "verify").exit_code == 0  # type: ignore[operator]
    with chain.db.transaction() as session:
        event = session.get(AuditEvent, 2)
        assert event is not None
        event.data = {**event.data, "status": "red"}
    result = cli("audit", "verify")  # type: ignore[operator]
    assert result.exit_code != 0
    assert "granskningskedjan är bruten vid händelse 2" in result.output


def test_deleted_or_reordered_audit_rows_are_caught(chain: Chain) -> None:
    chain.report_and_accept("1.1.1")
    chain.report_and_accept("1.1.2")
    with chain.db.transaction() as session:
        session.delete(session.get(AuditEvent, 3))
    with chain.db.transaction() as session:
        result = audit.verify(session)
        assert (result.intact, result.first_bad) == (False, 3)


def test_cycle_for_the_same_period_twice_is_refused(chain: Chain) -> None:
    with pytest.raises(Conflict) as refused:
        chain.start_cycle()
    assert refused.value.code == "error.cycle.exists"
    assert _count(chain.db, ReportingCycle) == 1


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "Q4", "2026-q4"])
def test_malformed_period_is_refused(seeded: Database, period: str) -> None:
    with seeded.transaction() as session, pytest.raises(InvalidInput) as refused:
        cycles.start_cycle(
            session, Actor(people.get_user(session, "processledare")), period, date(2099, 1, 1)
        )
    assert refused.value.code == "error.cycle.period_format"


def test_task_form_gives_schema_draft_and_context_to_who_may_act(chain: Chain) -> None:
    report = chain.task("anna.nilsson", "report_status", "1.1.1")
    with chain.db.transaction() as session:
        form = tasks.task_detail(session, people.get_user(session, "anna.nilsson"), report.id)
        assert form["schema"]["properties"]["status"]["enum"] == ["green", "yellow", "red"]
        assert form["context"]["activity_code"] == "1.1.1"
        assert form["draft"] == {}
        with pytest.raises(Forbidden):
            tasks.task_detail(session, people.get_user(session, "erik.berg"), report.id)
