"""Four eyes (workflows/README.md): nobody reviews what they reported themselves. A lead who owns
an activity in their own area neither sees its review nor may complete it; the process leader
takes it, as may a substitute of the lead who did not report it; the rest of the lane is as
before."""

from __future__ import annotations

import pytest

from planflow.services.authority import access, people
from planflow.services.errors import Forbidden
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR

from .chain import START, Chain


def _lead_owns(chain: Chain, code: str = "1.1.1", lead: str = "lead1") -> None:
    with chain.db.transaction() as session:
        people.set_activity_owner(session, OPERATOR_ACTOR, code, lead)


def _may_act(chain: Chain, username: str, task_id: str) -> str | None:
    with chain.db.transaction() as session:
        found = access.acting_for(session, people.get_user(session, username), task_id)
        return found.username if found else None


def test_a_lead_does_not_review_their_own_report_the_process_leader_does(chain: Chain) -> None:
    _lead_owns(chain)
    chain.do("lead1", "report_status", {"status": "green", "comment": "Enligt plan."}, "1.1.1")
    chain.do("erik.berg", "report_status", {"status": "green"}, "1.1.2")
    own = chain.task("processledare", "review_report", "1.1.1")
    assert own.id not in {t.id for t in chain.inbox("lead1")}
    assert _may_act(chain, "lead1", own.id) is None
    with pytest.raises(Forbidden) as refused:
        chain.complete("lead1", own.id, {"outcome": "accept"})
    assert refused.value.code == "error.access.own_report"
    # Everything else in the lane is as before: the lead reviews the other owners' reports, and
    # the process leader does not get them.
    other = chain.task("lead1", "review_report", "1.1.2")
    assert other.id not in {t.id for t in chain.inbox("processledare")}
    assert _may_act(chain, "processledare", other.id) is None
    chain.complete("processledare", own.id, {"outcome": "accept", "comment": "Granskad av processledaren."})
    with chain.db.transaction() as session:
        (accepted,) = audit.events(session, "activity", "1.1.1", action="status.accepted")
        assert (accepted.actor, accepted.on_behalf_of, accepted.role) == (
            "processledare",
            None,
            "process_leader",
        )
    chain.complete("lead1", other.id, {"outcome": "accept"})


def test_a_substitute_of_the_lead_reviews_unless_it_reported_itself(chain: Chain) -> None:
    _lead_owns(chain)
    with chain.db.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "vikarie", "Vikarie", "vikarie@example.org")
        for username in ("vikarie", "anna.nilsson"):
            people.add_substitute(session, OPERATOR_ACTOR, "lead1", username, START.date(), None)
    chain.do("lead1", "report_status", {"status": "green"}, "1.1.1")
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.3")
    leads_own = chain.task("processledare", "review_report", "1.1.1")
    annas = chain.task("lead1", "review_report", "1.1.3")
    # The lead's substitute, who reported nothing, reviews the lead's report for the lead.
    assert _may_act(chain, "vikarie", leads_own.id) == "lead1"
    # Anna stands in for the lead too, but does not review her own report; the lead does, and it
    # is no process leader's (no lead owns 1.1.3).
    assert _may_act(chain, "anna.nilsson", annas.id) is None
    assert annas.id not in {t.id for t in chain.inbox("anna.nilsson")}
    assert _may_act(chain, "anna.nilsson", leads_own.id) == "lead1"
    assert _may_act(chain, "processledare", annas.id) is None
    chain.complete("vikarie", leads_own.id, {"outcome": "accept"})
    with chain.db.transaction() as session:
        (accepted,) = audit.events(session, "activity", "1.1.1", action="status.accepted")
        assert (accepted.actor, accepted.on_behalf_of, accepted.role) == (
            "vikarie",
            "lead1",
            "focus_area_lead",
        )


def test_the_process_leader_takes_a_review_only_while_a_lead_owns_it(chain: Chain) -> None:
    _lead_owns(chain)
    chain.do("lead1", "report_status", {"status": "green"}, "1.1.1")
    review = chain.task("processledare", "review_report", "1.1.1")
    with chain.db.transaction() as session:  # the report stays the lead's own: still not theirs
        people.set_activity_owner(session, OPERATOR_ACTOR, "1.1.1", "anna.nilsson")
    assert _may_act(chain, "lead1", review.id) is None
    assert _may_act(chain, "processledare", review.id) == "processledare"
    with chain.db.transaction() as session:  # no longer a lead: an ordinary review, the area's lead's
        people.revoke_role(session, OPERATOR_ACTOR, "lead1", people.RoleSpec.parse("focus_area_lead:1"))
        people.add_user(
            session,
            OPERATOR_ACTOR,
            "ny.lead",
            "Ny ansvarig",
            "ny@example.org",
            [people.RoleSpec.parse("focus_area_lead:1")],
        )
    assert _may_act(chain, "processledare", review.id) is None
    assert _may_act(chain, "ny.lead", review.id) == "ny.lead"
