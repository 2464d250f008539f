"""The API answers people's and the steering queue's questions with the services' typed views
(plain.to_json of a dataclass): each published response schema names exactly the view's
fields, so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from planflow.services.authority import people, peopleview
from planflow.services.chain import counsel, deviations
from planflow.services.views import plain, steeringview
from planflow.web.api import schemas  # noqa: F401  (publishes the components)
from planflow.web.api.registry import COMPONENTS

VIEWS: dict[str, type[Any]] = {
    "Me": peopleview.MeView,
    "User": peopleview.UserView,
    "Substitution": peopleview.SubstitutionView,
    "ActivityOwner": people.OwnerView,
    "DeviationQueue": deviations.SteeringQueue,
    "QueuedDeviation": deviations.QueuedDeviation,
    "AwaitingGroup": steeringview.AwaitingGroup,
    "SteeringComment": counsel.CommentView,
}
NESTED = {
    ("Me", "roles"): peopleview.RoleView,
    ("Me", "scopes"): peopleview.ScopeView,
    ("User", "roles"): peopleview.RoleView,
}


def _names(view: type[Any]) -> set[str]:
    return {f.name for f in fields(view) if "pages_only" not in f.metadata}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_response_schema_names_its_views_fields(name: str) -> None:
    schema = COMPONENTS[name]
    assert set(schema["properties"]) == _names(VIEWS[name])
    assert set(schema["required"]) == _names(VIEWS[name])
    for (owner, field), view in NESTED.items():
        if owner == name:
            assert set(schema["properties"][field]["items"]["properties"]) == _names(view)


def test_the_views_reach_json_whole() -> None:
    assert plain.to_json(peopleview.ScopeView("propose_activity", "plan", 1)) == {
        "use_case": "propose_activity",
        "plan": "plan",
        "focus_area": 1,
    }
