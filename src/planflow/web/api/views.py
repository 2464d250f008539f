"""A service's typed view (a frozen dataclass) as the API sends it: its JSON and its JSON Schema
both come from the dataclass, so an answer and the OpenAPI document that describes it cannot
drift apart. A field's type says its schema: int, str, bool, date, datetime, a StrEnum (its
values), `X | None`, `tuple[X, ...]` or `list[X]`, and a nested view."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from typing import Any

from ...services.views.plain import sent, to_json

Schema = dict[str, Any]

_SCALARS: dict[type, Schema] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    str: {"type": "string"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
}


def schema_of(view: type) -> Schema:
    """The JSON Schema of a view dataclass: an object with exactly its fields, all required."""
    if not dataclasses.is_dataclass(view):
        raise TypeError(f"{view!r} is not a dataclass")
    hints = typing.get_type_hints(view)
    properties = {f.name: _schema(hints[f.name]) for f in sent(view)}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def _schema(hint: Any) -> Schema:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return _optional(hint, args)
    if origin in (tuple, list):
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            raise TypeError(f"a tuple field is tuple[X, ...], not {hint!r}")
        return {"type": "array", "items": _schema(args[0])}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return schema_of(hint)
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    raise TypeError(f"no JSON Schema for a view's field of type {hint!r}")


def _optional(hint: Any, args: tuple[Any, ...]) -> Schema:
    """`X | None`, the one union a view's field may be: X's schema, or null."""
    present = [arg for arg in args if arg is not type(None)]
    if len(present) != 1 or len(args) != 2:
        raise TypeError(f"only `X | None` unions are views' fields, not {hint!r}")
    inner = _schema(present[0])
    if "type" in inner and isinstance(inner["type"], str):
        return {**inner, "type": [inner["type"], "null"]}
    return {"anyOf": [inner, {"type": "null"}]}


def as_json(view: Any) -> dict[str, Any]:
    """A view dataclass as the JSON object the API answers with."""
    if not dataclasses.is_dataclass(view) or isinstance(view, type):
        raise TypeError(f"{view!r} is not a view")
    data: dict[str, Any] = to_json(view)
    return data
