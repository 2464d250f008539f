"""The steering group as a body and its meeting (issue 18, findings 6 and 10): the meeting closes
only with every deviation not yet decided either decided or left open by the chair's explicit
choice, and the minutes and the steering report say so; every member sees what awaits the group
(deviations, proposals, the annual report) and may comment on it before the chair records the
decision, the comments then kept with that decision."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from planflow import reports
from planflow.models import CycleState, Decision, SteeringComment, SteeringMeeting
from planflow.services.authority import people
from planflow.services.chain import counsel, cycles, deviations
from planflow.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from planflow.services.outputs.reports import steering_report
from planflow.services.plan import plans
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.services.views import steeringview

from .chain import START, Chain
from .steering import (
    RETURNED,
    annual_report_compiled,
    proposed_and_forwarded,
    recommended_and_agreed,
    reported_with_a_red,
    returned_by_the_chair,
    to_the_meeting,
)


def test_the_meeting_is_refused_while_a_returned_deviation_is_reworked(chain: Chain) -> None:
    """The walk that found it: the chair returns 4.2.3 and closes the meeting; 4.2.3 comes back
    later and is decided with no meeting open, beside minutes that said it was returned. Now the
    meeting is refused, naming 4.2.3 and where it stands, and the cycle stays open."""
    returned_by_the_chair(chain)
    meeting = to_the_meeting(chain)
    with pytest.raises(InvalidInput) as refused:
        chain.complete("ordforande", meeting, {"notes": "4.2.3 återsänd."})
    assert refused.value.code == "error.steering.undecided"
    said = refused.value.render("sv")
    assert "4.2.3 (återsänd till processledaren)" in said, said
    assert "4.2.3 (returned to the process leader)" in refused.value.render("en")
    assert "left_open" in refused.value.fields
    with chain.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SteeringMeeting)) == 0
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.OPEN

    # Reworked, agreed, decided: then the meeting closes, and the report's minutes agree with it.
    recommended_and_agreed(chain)
    with pytest.raises(InvalidInput) as pending:
        chain.complete("ordforande", meeting, {"notes": "Noterat."})
    assert "4.2.3 (väntar på styrgruppens beslut)" in pending.value.render("sv")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Nu räcker det."})
    chain.complete("ordforande", meeting, {"notes": "Noterat."})
    with chain.db.reading() as session:
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.REPORTED
        content = steering_report(session, plans.get_plan(session), "2026-Q4")
    assert content.left_open == []
    assert [(d.activity_code, d.decision, d.left_open) for d in content.deviations] == [
        (RETURNED, "approve", False)
    ]


def test_a_deviation_still_being_prepared_is_accounted_for_too(chain: Chain) -> None:
    reported_with_a_red(chain)  # no recommendation yet: with the process leader
    meeting = to_the_meeting(chain)
    with pytest.raises(InvalidInput) as refused:
        chain.complete("ordforande", meeting, {"notes": "Noterat."})
    assert "4.2.3 (rekommendationen tas fram)" in refused.value.render("sv")


def test_the_chair_leaves_a_returned_deviation_open_and_the_minutes_and_report_say_so(chain: Chain) -> None:
    returned_by_the_chair(chain)
    meeting = to_the_meeting(chain)
    with pytest.raises(InvalidInput) as wrong:  # only an undecided deviation may be left open
        chain.complete("ordforande", meeting, {"notes": "Noterat.", "left_open": [RETURNED, "1.1.1"]})
    assert wrong.value.code == "error.steering.not_open" and "1.1.1" in wrong.value.render("sv")
    assert RETURNED in wrong.value.fields["left_open"].render("sv")

    chain.complete("ordforande", meeting, {"notes": "Noterat.", "left_open": [RETURNED]})
    with chain.db.reading() as session:
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.REPORTED
        minutes = session.scalars(select(SteeringMeeting)).one()
        assert [(m["activity"], m["stands"]) for m in minutes.left_open] == [(RETURNED, "returned")]
        (event,) = audit.events(session, action="steering.meeting_closed")
        assert event.data["left_open"] == [RETURNED]
        content = steering_report(session, plans.get_plan(session), "2026-Q4")
    assert [(d.activity_code, d.stands) for d in content.left_open] == [(RETURNED, "returned")]
    (line,) = content.deviations
    assert (line.activity_code, line.decision, line.left_open) == (RETURNED, "return", True)
    html = reports.render(content, "html", "sv").decode("utf-8")
    assert "Lämnade öppna till nästa möte" in html and "Lämnad öppen till nästa möte" in html
    assert "Återsänd rekommendationen" not in html  # the table does not call it returned
    english = reports.render(content, "html", "en").decode("utf-8")
    assert "Left open to the next meeting" in english and "returned to the process leader" in english

    # Decided after the meeting (no meeting open): the minutes said it was left open, not returned.
    recommended_and_agreed(chain)
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Ja."})
    with chain.db.reading() as session:
        later = steering_report(session, plans.get_plan(session), "2026-Q4")
    assert [(d.activity_code, d.decision, d.left_open) for d in later.deviations] == [
        (RETURNED, "approve", True)
    ]
    assert [d.activity_code for d in later.left_open] == [RETURNED]


def test_a_member_sees_everything_awaiting_the_group(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    annual_report_compiled(chain)
    with chain.db.reading() as session:
        member = people.get_user(session, "styrgrupp.nk")
        waiting = steeringview.awaiting_group(session, member)
        chair = steeringview.awaiting_group(session, people.get_user(session, "ordforande"))
        (waits,) = steeringview.group_waits(session, member)
        leader = steeringview.awaiting_group(session, people.get_user(session, "processledare"))
        assert steeringview.group_waits(session, people.get_user(session, "processledare")) == []
        with pytest.raises(Forbidden):
            steeringview.awaiting_group(session, people.get_user(session, "anna.nilsson"))
    assert [d.activity_code for d in waiting.deviations] == [RETURNED]
    (proposal,) = waiting.proposals
    assert (proposal.title, proposal.intervention_area, proposal.owner) == (
        "Lokalguide för nyetablerade företag",
        "3.4",
        "Johan Ek (demo)",
    )
    assert proposal.why == "Efterfrågat i Näringslivsrådet."
    assert [(r.year, r.summary) for r in waiting.annual_reports] == [(2026, "Året i korthet.")]
    assert waiting.may_comment and chair.may_comment and not leader.may_comment
    assert not any(item.may_record for item in (*waiting.deviations, *waiting.proposals))
    assert all(item.may_record for item in (*chair.deviations, *chair.proposals, *chair.annual_reports))
    assert (waits.deviations, waits.proposals, waits.annual_reports) == (1, 1, 1)


def _comment(chain: Chain, username: str, subject_type: str, subject_id: int, text: object) -> None:
    with chain.db.transaction() as session:
        counsel.comment(session, people.get_user(session, username), subject_type, subject_id, text)


def _waiting(chain: Chain) -> steeringview.AwaitingGroup:
    with chain.db.reading() as session:
        return steeringview.awaiting_group(session, people.get_user(session, "ordforande"))


def test_comments_before_the_decision_are_kept_with_it_and_later_ones_refused(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    annual_report_compiled(chain)
    waiting = _waiting(chain)
    deviation = waiting.deviations[0].deviation_id
    proposal = waiting.proposals[0].proposal_id
    report = waiting.annual_reports[0].annual_report_id
    with chain.db.transaction() as session:  # the chair is away: a member stands in
        people.add_substitute(session, OPERATOR_ACTOR, "styrgrupp.sbk", "sara.lind", START.date(), None)
    _comment(chain, "styrgrupp.nk", "deviation", deviation, "Stöd rekommendationen.")
    _comment(chain, "sara.lind", "deviation", deviation, "Fråga om kostnaden.")
    _comment(chain, "ordforande", "proposal", proposal, "Bra förslag.")
    _comment(chain, "styrgrupp.ak", "annual_report", report, "Lägg till diagram.")
    with chain.db.reading() as session:
        said = counsel.comments_on(session, "deviation", deviation)
    assert [(c.author, c.on_behalf_of, c.text, c.decision_id) for c in said] == [
        ("Näringslivschef (demo)", None, "Stöd rekommendationen.", None),
        ("Sara Lind (demo)", "Stadsbyggnadsdirektör (demo)", "Fråga om kostnaden.", None),
    ]
    assert [c.text for c in _waiting(chain).deviations[0].comments] == [c.text for c in said]

    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Enligt gruppen."})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Ja."})
    with chain.db.reading() as session:
        decision = session.scalars(
            select(Decision.id).where(Decision.subject_type == "deviation", Decision.subject_id == deviation)
        ).one()
        kept = counsel.comments_on(session, "deviation", deviation)
        on_report = counsel.comments_on(session, "annual_report", report)
        commented = audit.events(session, action="steering.commented")
        events = [(e.actor, e.on_behalf_of, e.reason) for e in commented]
    assert {c.decision_id for c in kept} == {decision}
    assert [c.decision_id for c in on_report] == [None]  # its decision is not recorded yet
    assert sorted(events) == [
        ("ordforande", None, "Bra förslag."),
        ("sara.lind", "styrgrupp.sbk", "Fråga om kostnaden."),
        ("styrgrupp.ak", None, "Lägg till diagram."),
        ("styrgrupp.nk", None, "Stöd rekommendationen."),
    ]
    for subject_type, subject_id in (("deviation", deviation), ("proposal", proposal)):
        with pytest.raises(Conflict) as late:
            _comment(chain, "styrgrupp.nk", subject_type, subject_id, "För sent?")
        assert late.value.code == "error.steering.not_awaiting"
    with chain.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SteeringComment)) == 4


def test_a_returned_deviations_comments_stay_with_the_return_and_new_ones_wait(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    deviation = _waiting(chain).deviations[0].deviation_id
    _comment(chain, "styrgrupp.nk", "deviation", deviation, "Saknar kostnad.")
    chain.do("ordforande", "steering_decision", {"decision": "return", "rationale": "Räkna först."})
    returned = _waiting(chain).returned
    assert [(d.activity_code, d.returned_because) for d in returned] == [(RETURNED, "Räkna först.")]
    with pytest.raises(Conflict):  # with the process leader: nothing awaits the group
        _comment(chain, "styrgrupp.nk", "deviation", deviation, "Och nu?")
    recommended_and_agreed(chain)
    _comment(chain, "styrgrupp.nk", "deviation", deviation, "Nu bättre.")
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Ja."})
    with chain.db.reading() as session:
        decisions = session.scalars(select(Decision.id).order_by(Decision.id)).all()
        said = counsel.comments_on(session, "deviation", deviation)
    assert [(c.text, c.decision_id) for c in said] == [
        ("Saknar kostnad.", decisions[0]),
        ("Nu bättre.", decisions[1]),
    ]


def test_only_the_group_comments_and_only_in_bounds(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    deviation = _waiting(chain).deviations[0].deviation_id
    for outsider in ("anna.nilsson", "processledare", "naringslivsradet", "admin", "kommunstyrelsen"):
        with pytest.raises(Forbidden) as refused:
            _comment(chain, outsider, "deviation", deviation, "Får jag?")
        assert refused.value.code == "error.access.use_case"
    for text, problem in (("", "form.blank"), ("  \n ", "form.blank"), ("x" * 5001, "form.too_long")):
        with pytest.raises(InvalidInput) as bad:
            _comment(chain, "styrgrupp.nk", "deviation", deviation, text)
        assert bad.value.fields["comment"].key == problem
    with pytest.raises(InvalidInput) as kind:
        _comment(chain, "styrgrupp.nk", "activity", deviation, "Ok.")
    assert "subject_type" in kind.value.fields
    with pytest.raises(NotFound):
        _comment(chain, "styrgrupp.nk", "proposal", 999999, "Ok.")
    _comment(chain, "styrgrupp.nk", "deviation", deviation, "x" * 5000)  # the limit itself is fine
    with chain.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(SteeringComment)) == 1


def test_the_unsettled_are_in_the_queues_order_with_where_each_stands(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    with chain.db.reading() as session:
        (item,) = deviations.unsettled(session, plans.get_plan(session).id)
    assert (item.activity_code, item.stands, item.returned) == (RETURNED, "awaiting", False)


def test_the_chairs_decision_cases_show_what_the_members_said(chain: Chain) -> None:
    """Beside each of the chair's three decision forms: the members' comments on that subject."""
    from planflow.services.views import cases

    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    proposed_and_forwarded(chain)
    annual_report_compiled(chain)
    waiting = _waiting(chain)
    said = {
        "steering_decision": ("deviation", waiting.deviations[0].deviation_id, "Stöd rekommendationen."),
        "decide_proposal": ("proposal", waiting.proposals[0].proposal_id, "Bra förslag."),
        "approve_annual_report": ("annual_report", waiting.annual_reports[0].annual_report_id, "Diagram."),
    }
    for subject_type, subject_id, text in said.values():
        _comment(chain, "styrgrupp.nk", subject_type, subject_id, text)
    for name, (_, _, text) in said.items():
        task = chain.task("ordforande", name)
        with chain.db.reading() as session:
            case = cases.case_of(session, people.get_user(session, "ordforande"), task.id)
        assert case.comments is not None
        assert [(c.author, c.text) for c in case.comments] == [("Näringslivschef (demo)", text)]
    others = [(u, t) for u in ("lead1", "processledare", "ordforande") for t in chain.inbox(u)]
    others = [(u, t) for u, t in others if t.name not in said]
    assert others
    with chain.db.reading() as session:  # any other task: no comments section at all
        for username, task in others:
            assert cases.case_of(session, people.get_user(session, username), task.id).comments is None
