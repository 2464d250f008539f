"""The JSON-schema forms of user tasks: loaded once, checked on the server before any data
reaches a workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from ..i18n import Message


class FormError(ValueError):
    """Form data that does not fit its schema; `errors` maps each field ("" for the whole form)
    to what is wrong with it, as a catalog key with parameters."""

    def __init__(self, form: str, errors: dict[str, Message]) -> None:
        details = "; ".join(f"{field or 'form'}: {message.key}" for field, message in sorted(errors.items()))
        super().__init__(f"form {form} is not valid: {details}")
        self.form = form
        self.errors = errors


@dataclass(frozen=True)
class Form:
    name: str
    schema: dict[str, Any]
    validator: Draft202012Validator

    @property
    def fields(self) -> list[str]:
        return list(self.schema.get("properties", {}))

    def validate(self, data: Any) -> dict[str, Any]:
        """Return the data if it fits the schema (unknown keys refused), else raise FormError."""
        if not isinstance(data, dict):
            raise FormError(self.name, {"": Message("form.not_an_object")})
        errors: dict[str, Message] = {}
        # PostgreSQL text cannot hold NUL, and no person types one: refused here, not at the insert.
        for field in _with_nul(data):
            errors.setdefault(field, Message("form.nul"))
        for error in self.validator.iter_errors(data):
            for field, message in _explain(error):
                errors.setdefault(field, message)
        if errors:
            raise FormError(self.name, errors)
        return {key: data[key] for key in self.fields if key in data}


def _with_nul(value: Any, path: str = "") -> list[str]:
    """The dotted paths of the strings (keys too) in `value` that contain a NUL character."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if "\x00" in str(key) else _with_nul(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _with_nul(item, f"{path}.{index}" if path else str(index))
    return found


def _explain(error: jsonschema.ValidationError) -> list[tuple[str, Message]]:
    """Turn a schema error into (field, message) pairs a person can act on."""
    path = ".".join(str(p) for p in error.absolute_path)
    rule, value = error.validator, error.validator_value
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [(f"{path}.{missing}" if path else missing, Message("form.required"))]
    if rule == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(f"{path}.{key}" if path else key, Message("form.unknown_field")) for key in extra]
    if rule == "enum":
        return [(path, Message("form.one_of", {"choices": ", ".join(map(str, value))}))]
    if rule == "const":
        return [(path, Message("form.must_be", {"value": json.dumps(value)}))]
    if rule == "pattern" and value == "\\S":
        return [(path, Message("form.blank"))]
    if rule in ("minLength", "minItems") and value == 1:
        return [(path, Message("form.empty"))]
    if rule == "format" and value == "date" or (rule == "pattern" and "[0-9]{4}-" in str(value)):
        return [(path, Message("form.date"))]
    if rule == "type":
        return [(path, Message("form.type", {"type": value}))]
    if rule == "maxLength":
        return [(path, Message("form.too_long", {"max": value}))]
    if rule == "maxItems":
        return [(path, Message("form.too_many", {"max": value}))]
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [(path, Message("form.out_of_range", {"limit": value}))]
    return [(path, Message("form.invalid", {"rule": rule}))]


class FormLibrary:
    """All forms in a folder, by user-task id."""

    def __init__(self, folder: Path) -> None:
        self.forms: dict[str, Form] = {}
        for path in sorted(folder.glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            self.forms[path.stem] = Form(path.stem, schema, validator)

    def __contains__(self, name: str) -> bool:
        return name in self.forms

    def get(self, name: str) -> Form:
        return self.forms[name]
