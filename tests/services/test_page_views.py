"""What the proposal and dialogue pages read: the areas a person may propose in (the same answer as
the authority's, substitutes included), and a representative's own feedback only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import FocusArea
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.chain import cycles
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.services.views import dialogueview, proposalview
from tests.web.dialogue import open_dialogue


def test_the_areas_open_to_a_person_are_where_the_authority_lets_it_propose(seeded: Database) -> None:
    with seeded.transaction() as session:
        people.add_substitute(session, OPERATOR_ACTOR, "lead3", "lead1", clock.now().date(), None)
    with seeded.reading() as session:
        focus_areas = session.scalars(select(FocusArea)).all()
        for username in ("lead1", "anna.nilsson", "processledare", "naringslivsradet"):
            user = people.get_user(session, username)
            allowed = {
                fa.id for fa in focus_areas if access.may(session, user, UseCase.PROPOSE_ACTIVITY, fa.id)
            }
            assert access.scopes(session, user, UseCase.PROPOSE_ACTIVITY) == allowed, username
        codes = [a.code for a in proposalview.areas_open_to(session, people.get_user(session, "lead1"))]
        assert codes[0] == "1.1" and {c.split(".")[0] for c in codes} == {"1", "3"}  # 3: for lead3
        assert proposalview.areas_open_to(session, people.get_user(session, "anna.nilsson")) == []


def test_a_representative_reads_only_its_own_feedback(seeded: Database) -> None:
    open_dialogue(seeded, "2026-Q4", date(2026, 12, 15))
    with seeded.transaction() as session:
        people.add_user(
            session, OPERATOR_ACTOR, "frukostklubben", "Frukostklubben", "fk@example.invalid",
            [people.RoleSpec.parse("dialogue")],
        )  # fmt: skip
        for username, text in (("naringslivsradet", "Mer lokaler."), ("frukostklubben", "Fler besök.")):
            cycles.give_dialogue_feedback(
                session, people.get_user(session, username), "2026-Q4", {"feedback": text}
            )
    with seeded.reading() as session:
        assert [d.period for d in dialogueview.open_dialogues(session)] == ["2026-Q4"]
        mine = dialogueview.feedback_of(session, people.get_user(session, "naringslivsradet"))
        assert [(f.period, f.feedback) for f in mine] == [("2026-Q4", "Mer lokaler.")]
        assert (
            dialogueview.feedback_of(session, people.get_user(session, "naringslivsradet"), period="2026-Q3")
            == []
        )
