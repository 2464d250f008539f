"""Two plans whose codes overlap: the seed plan (A, the default: loaded first) and a small plan B
whose activities are numbered 1.1.1, 1.1.2 and 2.1.1 too, each brought to a stage where its pages
have something of plan B's to show: a cycle at its steering meeting, a deviation in the steering
group's queue, business-dialogue feedback, an approved proposal and a pending one. Plan A has a
cycle under way and a deviation of its own 1.1.1 in its queue, so a page that reads the wrong plan
shows plan A's words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Activity, Plan
from planflow.services.authority import people
from planflow.services.chain import cycles, proposals
from planflow.services.outputs import calendar_feed
from planflow.services.plan import plans
from planflow.services.records.audit import OPERATOR_ACTOR, Actor
from tests.services.chain import Chain
from tests.web.conftest import password_of

B = "gron-2030"
B_TITLE = "Grön omställning 2030 (plan B)"
B_PERIOD = "2026-11"  # plan A's cycle is 2026-Q4: plan B has no such period, nor A this one
B_OWNER, B_LEAD = "bodil.gren", "leadb"
B_ACTIVITIES = {
    "1.1.1": "Plan B: solceller på skolornas tak",
    "1.1.2": "Plan B: laddstolpar vid stationen",
    "2.1.1": "Plan B: energirådgivning för företag",
}
B_AREAS = {1: "Plan B: klimatet", 2: "Plan B: energin"}
B_INTERVENTIONS = {
    "1.1": "Plan B: bygger om för klimatet",
    "1.2": "Plan B: utan aktiviteter",
    "2.1": "Plan B: ger råd",
}
B_ADDED = "Plan B: cykelpool för kommunens anställda"  # an approved proposal: activity 1.1.3
B_PENDING = "Plan B: gröna tak på busskurerna"  # a proposal the process leader has not checked
B_FEEDBACK = "Plan B: näringslivet vill ha fler laddstolpar."
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class TwoPlans:
    a: str  # plan A's slug
    a_titles: dict[str, str]  # plan A's activities by code
    b_meeting_task: str  # plan B's open steering_meeting task
    b_decision_task: str  # the steering group's decision on plan B's 1.1.1
    b_meeting_due: date
    calendar_secret: str  # the chair's feed


def plan_b_file(folder: Path) -> Path:
    """Plan B's data file, written in `folder`."""
    path = folder / f"{B}.json"

    def activities(ia: str) -> list[dict[str, object]]:
        codes = [c for c in B_ACTIVITIES if c.rsplit(".", 1)[0] == ia]
        return [{"number": int(c.rsplit(".", 1)[1]), "title": B_ACTIVITIES[c]} for c in codes]

    path.write_text(
        json.dumps(
            {
                "slug": B,
                "title": B_TITLE,
                "organisation": "Södertälje kommun",
                "adopted_on": "2026-01-15",
                "strategy_period": {"start": 2026, "end": 2030},
                "source": "tests",
                "focus_areas": [
                    {
                        "number": fa,
                        "title": title,
                        "intervention_areas": [
                            {
                                "number": int(ia.split(".")[1]),
                                "title": B_INTERVENTIONS[ia],
                                "approach": f"Genom att {ia}",
                                "activities": activities(ia),
                            }
                            for ia in B_INTERVENTIONS
                            if ia.startswith(f"{fa}.")
                        ],
                    }
                    for fa, title in B_AREAS.items()
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def _proposal(title: str) -> dict[str, str]:
    return {
        "title": title,
        "intervention_area": "1.1",
        "owner": B_OWNER,
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Efterfrågat.",
    }


def build(db: Database, folder: Path) -> TwoPlans:
    """Plan B beside the seeded plan A, both under way (the seeded database, at START)."""
    clock.set_now(START)
    with db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document(plan_b_file(folder)))
        lead = [people.RoleSpec.parse(f"focus_area_lead:{B}/{fa}") for fa in B_AREAS]
        for username, name, roles in ((B_OWNER, "Bodil Gren", []), (B_LEAD, "Leif B", lead)):
            people.add_user(
                session,
                OPERATOR_ACTOR,
                username,
                name,
                f"{username}@example.org",
                roles,
                password_of(username),
            )
        for code in B_ACTIVITIES:
            people.set_activity_owner(session, OPERATOR_ACTOR, code, B_OWNER, B)
        a_titles = dict(
            session.execute(
                select(Activity.code, Activity.title).where(Activity.plan_id == plans.get_plan(session).id)
            ).all()
        )
        a = plans.get_plan(session).slug
        a_owner = plans.get_activity(session, plans.get_plan(session), "1.1.1").owner
        assert a_owner is not None and a_owner.username != B_OWNER
        a_owner_name = a_owner.username
    chain = Chain(db)

    # Plan B: an approved proposal (activity 1.1.3).
    with db.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, B_LEAD), _proposal(B_ADDED), B)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Bra."})

    # Plan B's cycle to its steering meeting, with 1.1.1's deviation in the queue.
    with db.transaction() as session:
        leader = people.get_user(session, "processledare")
        cycle = cycles.start_cycle(session, Actor(leader), B_PERIOD, date(2026, 11, 30), plan_slug=B)
    cycles.open_all(db.transaction, cycle.id)
    for code in B_ACTIVITIES:  # 1.1.3 starts in 2027: it does not report in 2026-11
        red = code == "1.1.1"
        data = {"status": "red", "cause": "Leverantören drog sig ur."} if red else {"status": "green"}
        chain.do(B_OWNER, "report_status", {**data, "comment": f"{code} i plan B"}, code)
        chain.do(B_LEAD, "review_report", {"outcome": "accept"}, code)
    chain.do("processledare", "draft_recommendation", {"recommendation": "Ny leverantör."}, "1.1.1")
    chain.do(B_LEAD, "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    for _ in B_AREAS:
        chain.do(B_LEAD, "area_summary", {"summary": "Plan B följer planen."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    with db.transaction() as session:
        user = people.get_user(session, "naringslivsradet")
        cycles.give_dialogue_feedback(session, user, B_PERIOD, {"feedback": B_FEEDBACK}, B)
    dialogue = {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "-"}
    chain.do("processledare", "business_dialogue", dialogue)
    meeting = chain.task("ordforande", "steering_meeting")
    decision = chain.task("ordforande", "steering_decision", "1.1.1")
    with db.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, B_LEAD), _proposal(B_PENDING), B)
        secret = calendar_feed.rotate_secret(session, OPERATOR_ACTOR, "ordforande")
        assert session.scalar(select(Plan.slug).order_by(Plan.id).limit(1)) == a

    # Plan A: its cycle under way, its own 1.1.1 red and in the steering group's queue.
    chain.start_cycle()
    chain.do(a_owner_name, "report_status", {"status": "red", "cause": "Ingen budget."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    assert meeting.due_on is not None
    return TwoPlans(a, a_titles, meeting.id, decision.id, meeting.due_on, secret)
