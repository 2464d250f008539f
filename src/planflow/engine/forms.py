"""The JSON-schema forms of user tasks: loaded once, checked on the server before any data
reaches a workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator


class FormError(ValueError):
    """Form data that does not fit its schema; `errors` maps each field ("" for the whole form)
    to what is wrong with it."""

    def __init__(self, form: str, errors: dict[str, str]) -> None:
        details = "; ".join(f"{field or 'form'}: {message}" for field, message in sorted(errors.items()))
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
            raise FormError(self.name, {"": "must be an object of fields"})
        errors: dict[str, str] = {}
        for error in self.validator.iter_errors(data):
            for field, message in _explain(error):
                errors.setdefault(field, message)
        if errors:
            raise FormError(self.name, errors)
        return {key: data[key] for key in self.fields if key in data}


def _explain(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    """Turn a schema error into (field, message) pairs a person can act on."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [(f"{path}.{missing}" if path else missing, "is required")]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(f"{path}.{key}" if path else key, "is not a field of this form") for key in extra]
    if error.validator == "propertyNames":
        return [(path, f"has an invalid key: {error.message}")]
    if error.validator == "enum":
        return [(path, "must be one of: " + ", ".join(map(str, error.validator_value)))]
    if error.validator == "const":
        return [(path, f"must be {json.dumps(error.validator_value)}")]
    if error.validator == "pattern" and error.validator_value == "\\S":
        return [(path, "must not be blank")]
    if error.validator in ("minLength", "minItems") and error.validator_value == 1:
        return [(path, "must not be empty")]
    if (
        error.validator == "format"
        and error.validator_value == "date"
        or (error.validator == "pattern" and "[0-9]{4}-" in str(error.validator_value))
    ):
        return [(path, "must be a date as YYYY-MM-DD")]
    if error.validator == "type":
        return [(path, f"must be of type {error.validator_value}")]
    return [(path, error.message)]


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
