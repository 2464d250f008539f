"""The seed plan as loaded: its shape, its text and the two traps of the seed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planflow.db import Database
from planflow.models import Activity, FocusArea, InterventionArea
from planflow.services.authority import people
from planflow.services.errors import InvalidInput, NotFound
from planflow.services.plan import plans
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.services.views import planview

from ..conftest import SEED


def test_seed_plan_has_5_focus_areas_24_intervention_areas_60_activities(session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(FocusArea)) == 5
    assert session.scalar(select(func.count()).select_from(InterventionArea)) == 24
    assert session.scalar(select(func.count()).select_from(Activity)) == 60
    per_area = session.execute(
        select(FocusArea.number, func.count(Activity.id))
        .join(InterventionArea, InterventionArea.focus_area_id == FocusArea.id)
        .join(Activity, Activity.intervention_area_id == InterventionArea.id)
        .group_by(FocusArea.number)
        .order_by(FocusArea.number)
    ).all()
    assert per_area == [(1, 12), (2, 12), (3, 13), (4, 13), (5, 10)]


def test_differently_indented_activity_belongs_to_the_property_owner_network(session: Session) -> None:
    activity = session.scalar(select(Activity).where(Activity.title == "Synliggöra lediga lokaler"))
    assert activity is not None
    assert activity.code == "3.4.2"
    assert activity.intervention_area.title.startswith(
        "har ett strukturerat samarbete med lokala fastighetsägare"
    )


def test_intervention_area_without_activities_is_kept_empty(session: Session) -> None:
    area = session.scalar(select(InterventionArea).where(InterventionArea.title.startswith("har partners")))
    assert area is not None
    assert area.code == "1.2"
    assert area.activities == []
    assert area.approach is None


def test_every_intervention_area_with_activities_keeps_its_approach(session: Session) -> None:
    areas = session.scalars(select(InterventionArea)).all()
    assert all(a.approach and a.approach.startswith("Genom") for a in areas if a.activities)


def _normalised_seed() -> str:
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("Tjänsteskrivelse | 2016-03-08 | Södertälje kommun | Kommunstyrelsens kontor", " ")
    text = text.replace("8 (9)", " ")
    text = re.sub(r"-\s*\n\s*", "-", text)  # words hyphenated across a line break
    return re.sub(r"\s+", " ", text)


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed document is not at {SEED}")
def test_titles_and_approaches_are_the_seed_text() -> None:
    seed = _normalised_seed()
    document = plans.read_plan_document()
    texts = []
    for fa in document["focus_areas"]:
        texts.append(fa["title"])
        for ia in fa["intervention_areas"]:
            texts += [ia["title"], ia["approach"] or ""]
            texts += [a["title"] for a in ia["activities"]]
    missing = [t for t in texts if t not in seed]
    assert missing == []
    assert not any("Tjänsteskrivelse" in t or "8 (9)" in t for t in texts)


def test_activity_codes_are_area_intervention_activity(session: Session) -> None:
    codes = session.scalars(select(Activity.code).order_by(Activity.id)).all()
    assert codes[:5] == ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"]
    assert codes[5] == "1.3.1"  # 1.2 has no activities
    assert len(set(codes)) == 60


def test_malformed_plan_entry_is_refused_naming_where(tmp_path: Path) -> None:
    document = plans.read_plan_document()
    document["focus_areas"][2]["intervention_areas"][3]["activities"][1]["title"] = ""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInput, match="focus_areas/2/intervention_areas/3/activities/1/title"):
        plans.read_plan_document(path)


def test_plan_with_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    document = plans.read_plan_document()
    document["focus_areas"][0]["intervention_areas"][0]["activities"][2]["number"] = 9
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"intervention area 1\.1: numbers must run"):
        plans.read_plan_document(path)


def test_plan_whose_strategy_period_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    document = plans.read_plan_document()
    document["strategy_period"] = {"start": 2022, "end": 2016}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"strategy period ends \(2016\) before it starts \(2022\)"):
        plans.read_plan_document(path)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[" * (plans.MAX_PLAN_BYTES + 1), "is larger than 5 MB"),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
    ],
    ids=["huge", "deep"],
)
def test_plan_file_that_cannot_be_a_plan_is_refused_in_a_short_message(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=says):
        plans.read_plan_document(path)


def test_plan_value_at_fault_is_not_quoted_at_length(tmp_path: Path) -> None:
    document = plans.read_plan_document() | {"title": "x" * 5000}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InvalidInput, match="title: fails maxLength 300") as refused:
        plans.read_plan_document(path)
    assert len(str(refused.value)) < 100


def test_which_plan_a_question_is_about_is_the_named_one_else_the_first_loaded(
    seeded: Database, tmp_path: Path
) -> None:
    """One rule (plans.get_plan) for the pages, the API, the command line and the jobs: a slug
    names its plan, no slug is the first plan loaded, whatever was loaded after it."""
    from tests.web.two_plans import B_TITLE, B, plan_b_file

    with seeded.transaction() as session:
        first = plans.get_plan(session)
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document(plan_b_file(tmp_path)))
    with seeded.reading() as session:
        assert plans.get_plan(session).id == first.id and plans.get_plan(session, first.slug).id == first.id
        assert plans.get_plan(session, B).title == B_TITLE
        tree = plans.plan_tree(session, B)
        assert tree is not None and tree.title == B_TITLE
        view = planview.read_plan(session, people.get_user(session, "processledare"), B)
        assert view is not None and view.slug == B and [s for s, _ in view.plans] == [first.slug, B]
        for read in (
            lambda: plans.get_plan(session, "no-such-plan"),
            lambda: plans.plan_tree(session, "no-such-plan"),
            lambda: planview.read_plan(session, people.get_user(session, "processledare"), "no-such-plan"),
        ):
            with pytest.raises(NotFound) as refused:
                read()
            assert refused.value.code == "error.plan.not_found"


def test_with_no_plan_loaded_the_default_is_not_found(db: Database) -> None:
    with db.reading() as session:
        with pytest.raises(NotFound):
            plans.get_plan(session)
        assert plans.plan_tree(session) is None
