"""The steering group's part of the chain, as the tests drive it: 4.2.3 reported red, its
recommendation agreed or returned by the chair, a proposal forwarded, the annual report compiled,
the cycle brought to its meeting."""

from __future__ import annotations

from planflow.services.authority import people
from planflow.services.chain import annual, proposals
from planflow.services.records.audit import Actor

from .chain import Chain

RETURNED = "4.2.3"


def reported_with_a_red(chain: Chain, code: str = RETURNED) -> None:
    """Every report accepted, `code` red: its deviation opens."""
    while reports_due := [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        for task in reports_due:
            red = task.activity_code == code
            chain.report_and_accept(
                task.activity_code or "", "red" if red else "green", "Resursbrist." if red else None
            )


def recommended_and_agreed(chain: Chain, code: str = RETURNED) -> None:
    chain.do("processledare", "draft_recommendation", {"recommendation": "Förstärk handläggningen."}, code)
    chain.do(f"lead{code.split('.')[0]}", "agree_recommendation", {"outcome": "agree"}, code)


def to_the_meeting(chain: Chain) -> str:
    """The areas confirmed and the dialogue held: the meeting's task, open."""
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "-"},
    )
    return chain.task("ordforande", "steering_meeting").id


def returned_by_the_chair(chain: Chain) -> None:
    reported_with_a_red(chain)
    recommended_and_agreed(chain)
    chain.do(
        "ordforande",
        "steering_decision",
        {"decision": "return", "rationale": "Räkna på kostnaden först."},
        RETURNED,
    )


def proposed_and_forwarded(chain: Chain) -> None:
    with chain.db.transaction() as session:
        proposals.propose_activity(
            session,
            people.get_user(session, "lead3"),
            {
                "title": "Lokalguide för nyetablerade företag",
                "intervention_area": "3.4",
                "owner": "johan.ek",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Efterfrågat i Näringslivsrådet.",
            },
        )
    chain.do("processledare", "check_proposal", {"outcome": "forward"})


def annual_report_compiled(chain: Chain) -> None:
    with chain.db.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Året i korthet."})


def annual_report_approved(chain: Chain) -> None:
    """The 2026 annual report compiled and approved by the steering group: it may be issued."""
    annual_report_compiled(chain)
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
