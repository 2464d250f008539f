"""A view as plain JSON data: the one conversion the API and the services' JSON-shaped answers use,
so a field reads the same wherever it is sent."""

from __future__ import annotations

import dataclasses
import enum
from datetime import date
from typing import Any

PAGES_ONLY = {"pages_only": True}  # marks a view's field that the pages show and the API leaves out


def sent(view: Any) -> list[dataclasses.Field[Any]]:
    """The fields of a view dataclass (or its type) that the API sends."""
    return [f for f in dataclasses.fields(view) if "pages_only" not in f.metadata]


def to_json(value: Any) -> Any:
    """A view (or a value in one) as JSON data: its fields but the pages' own, dates and times in
    ISO 8601, enums as their values, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in sent(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    return value
