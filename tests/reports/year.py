"""A scripted year on the seed plan, through the services as its users would run it:
2026-Q3 and 2026-Q4, with deviations decided, an activity closed, one proposed and added.

The figures it must give (what the reports are checked against):
- Q3: 60 report: 58 green, 1.1.1 yellow (approved), 3.4.2 red (closed by the steering group).
- Q4: 59 report (3.4.2 is closed): 1.1.1 green again (better), 2.1.1 yellow (reprioritised),
  4.2.1 red (approved); 57 green. 3.4.4 is proposed and approved (starts 2027).
- The year: 57 green, 1 yellow, 2 red, 1 unreported (3.4.4) of 61; 4 deviations, 5 decisions;
  completed: 3.4.2 (closed) and 5.1.1, 5.2.1 (timeline ended in 2026); new: 3.4.4.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Activity
from planflow.services.authority import people
from planflow.services.chain import cycles, proposals

from ..services.chain import Chain

ENDING_IN_2026 = ("5.1.1", "5.2.1")
Q3_STATUS = {"1.1.1": ("yellow", "Färre besök än planerat."), "3.4.2": ("red", "Inga lokaler registrerade.")}
Q4_STATUS = {
    "2.1.1": ("yellow", "Lärosätet har skjutit upp starten."),
    "4.2.1": ("red", "Resursbrist i handläggningen."),
}


def prepare_timelines(db: Database) -> None:
    """Every activity runs through 2026 and 2027 (the demo's dates depend on the day), but two end in 2026."""
    with db.transaction() as session:
        for activity in session.scalars(select(Activity)):
            activity.starts_on = date(2026, 1, 1)
            activity.ends_on = date(2026, 12, 31) if activity.code in ENDING_IN_2026 else date(2027, 12, 31)


def run_cycle(
    chain: Chain, period: str, deadline: date, statuses: dict[str, tuple[str, str]], heard: str
) -> None:
    chain.start_cycle(period, deadline)
    while reports := [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        for task in reports:
            code = task.activity_code or ""
            status, cause = statuses.get(code, ("green", None))
            chain.report_and_accept(code, status, cause)
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}: {period} enligt plan."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    with chain.db.transaction() as session:
        cycles.give_dialogue_feedback(
            session, people.get_user(session, "naringslivsradet"), period, {"feedback": f"Synpunkt {period}."}
        )
    chain.do(
        "processledare",
        "business_dialogue",
        {
            "forums": ["Näringslivsrådet", "Frukostklubben"],
            "held_on": deadline.isoformat(),
            "heard": heard,
            "ideas": "Gemensam lokalportal – efterfrågad.",
        },
    )


def decide(chain: Chain, code: str, decision: str, rationale: str) -> None:
    lead = f"lead{code.split('.')[0]}"
    chain.do(
        "processledare", "draft_recommendation", {"recommendation": f"Åtgärd för {code}: ny tidplan."}, code
    )
    chain.do(lead, "agree_recommendation", {"outcome": "agree"}, code)
    chain.do("ordforande", "steering_decision", {"decision": decision, "rationale": rationale}, code)


def close_meeting(chain: Chain, notes: str) -> None:
    chain.do("ordforande", "steering_meeting", {"notes": notes, "priorities": "Fokusområde 3 först."})


def scripted_year(db: Database) -> Chain:
    """Run the year; leaves the clock at 2026-12-01."""
    prepare_timelines(db)
    chain = Chain(db)
    clock.set_now(datetime(2026, 8, 3, 9, tzinfo=UTC))
    run_cycle(chain, "2026-Q3", date(2026, 9, 15), Q3_STATUS, "Företagen efterfrågar lokaler.")
    decide(chain, "1.1.1", "approve", "Rimlig åtgärd.")
    decide(chain, "3.4.2", "close", "Ersätts av en ny aktivitet.")
    close_meeting(chain, "Styrgruppen noterar Q3.")

    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
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
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Stärker etableringen."})
    run_cycle(chain, "2026-Q4", date(2026, 12, 15), Q4_STATUS, "Nöjda med takten – handläggningen tar tid.")
    decide(chain, "2.1.1", "reprioritise", "Prioriteras ned i år.")
    decide(chain, "4.2.1", "approve", "Förstärk handläggningen.")
    close_meeting(chain, "Styrgruppen noterar Q4.")
    clock.set_now(datetime(2026, 12, 1, 9, tzinfo=UTC))
    return chain
