"""The JSON-schema forms of user tasks: loaded once, checked on the server before any data
reaches a workflow."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, Message, language_or_default


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

    def words(self, language: str | None) -> FormWords:
        return form_words(self.schema, language)

    def validate(self, data: Any) -> dict[str, Any]:
        """Return the data if it fits the schema (unknown keys refused), else raise FormError."""
        if not isinstance(data, dict):
            raise FormError(self.name, {"": Message("form.not_an_object")})
        errors: dict[str, Message] = dict(_text_problems(data))
        for error in self.validator.iter_errors(data):
            for field, message in _explain(error):
                errors.setdefault(field, message)
        if errors:
            raise FormError(self.name, errors)
        return {key: data[key] for key in self.fields if key in data}


# A form's words stand in its schema: Swedish under the JSON Schema's own keys (`title`,
# `description`) and `x-enum-labels` (value -> label), each other language's under the twin key
# `x-<key>-<language>` (`x-title-en`, `x-description-en`, `x-enum-labels-en`).
WORDED = ("title", "description", "x-enum-labels")


def twin(key: str, language: str) -> str:
    """The schema key holding `key`'s words in `language` (the key itself for Swedish)."""
    if language == DEFAULT_LANGUAGE:
        return key
    return f"x-{key.removeprefix('x-')}-{language}"


def _in(spec: Mapping[str, Any], key: str, language: str) -> Any:
    return spec.get(twin(key, language), spec.get(key))


@dataclass(frozen=True)
class FieldWords:
    """A field's words in one language: its label, its help, its choices (value, label) in the
    schema's order."""

    label: str
    help: str | None
    choices: tuple[tuple[str, str], ...]

    def choice(self, value: Any) -> str:
        """A value's label (the value itself when the schema names no such choice)."""
        return next((label for v, label in self.choices if v == str(value)), str(value))


@dataclass(frozen=True)
class FormWords:
    """A form's words in one language: its title and each field's words, by field name."""

    language: str
    title: str
    fields: Mapping[str, FieldWords]


def form_words(schema: Mapping[str, Any], language: str | None) -> FormWords:
    """The words of a form in the reader's `language` (Swedish when unknown): the one place that
    picks a form's words, for pages, mail and anything else that shows a form or what was put in it."""
    language = language_or_default(language)
    fields = {}
    for name, spec in schema.get("properties", {}).items():
        labels = _in(spec, "x-enum-labels", language) or {}
        fields[name] = FieldWords(
            label=str(_in(spec, "title", language) or name),
            help=_in(spec, "description", language),
            choices=tuple((str(v), str(labels.get(v, v))) for v in spec.get("enum", [])),
        )
    return FormWords(language, str(_in(schema, "title", language) or ""), fields)


def check_words(schema: Mapping[str, Any], where: str = "") -> None:
    """Refuse a form that would show a reader of another language Swedish words."""
    missing = untranslated(schema, where)
    if missing:
        raise ValueError(f"{where or 'form'}: words missing in a language: {', '.join(missing)}")


def untranslated(schema: Mapping[str, Any], where: str = "") -> list[str]:
    """Where a form says something in Swedish without its twin in every other language (or a
    choice list without a label for every choice): the places a reader would meet Swedish."""
    missing = []
    for key in WORDED:
        if key not in schema:
            continue
        for language in LANGUAGES:
            words = schema.get(twin(key, language))
            if not words:
                missing.append(f"{where or 'form'}: {twin(key, language)}")
            elif key == "x-enum-labels" and set(map(str, schema.get("enum", []))) - set(words):
                missing.append(f"{where or 'form'}: {twin(key, language)} (not every choice)")
    if "enum" in schema and "x-enum-labels" not in schema:
        missing.append(f"{where or 'form'}: x-enum-labels")
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            if isinstance(sub, dict):
                missing += untranslated(sub, f"{where}.{name}" if where else name)
    if isinstance(schema.get("items"), dict):
        missing += untranslated(schema["items"], f"{where}[]")
    return missing


# Text may hold any printable Unicode, new lines and tabs: never a lone surrogate (it cannot be
# stored or hashed as UTF-8) or another control character (a NUL breaks PostgreSQL's text).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
# A name (a person's, a path's, a key) is one line: no control character at all, C1 included, so
# nothing can end a mail header or a log line early ("address parts cannot contain CR or LF").
ON_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _text_problems(data: dict[str, Any]) -> Iterator[tuple[str, Message]]:
    """The fields whose text is not text a person can have typed (checked before the schema, so
    nothing downstream ever sees it)."""
    for field, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and CONTROL.search(item):
                yield str(field)[:64], Message("form.control_characters")
                break


def check_text_fields(schema: dict[str, Any], where: str = "") -> None:
    """Refuse a form whose text fields do not all state a maximum length (bounded input)."""
    if schema.get("type") == "string" and not {"maxLength", "enum", "const"} & schema.keys():
        raise ValueError(f"{where or 'form'}: a text field must state maxLength")
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            check_text_fields(sub, f"{where}.{name}" if where else name)
    for key in ("items", "additionalProperties", "then", "else", "if"):
        if isinstance(schema.get(key), dict):
            check_text_fields(schema[key], where)


def _explain(error: jsonschema.ValidationError) -> list[tuple[str, Message]]:
    """Turn a schema error into (field, message) pairs a person can act on."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return [(f"{path}.{missing}" if path else missing, Message("form.required"))]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [(f"{path}.{key}" if path else key, Message("form.unknown_field")) for key in extra]
    return [(path, _message(str(error.validator), error.validator_value))]


# Rules whose message says the rule's value (the choices, the limit), by the rule.
_SAYS_VALUE: dict[str, Callable[[Any], Message]] = {
    "enum": lambda value: Message("form.one_of", {"choices": ", ".join(map(str, value))}),
    "const": lambda value: Message("form.must_be", {"value": json.dumps(value)}),
    "type": lambda value: Message("form.type", {"type": value}),
    "maxLength": lambda value: Message("form.too_long", {"max": value}),
    "maxItems": lambda value: Message("form.too_many", {"max": value}),
    **dict.fromkeys(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
        lambda value: Message("form.out_of_range", {"limit": value}),
    ),
}


def _message(rule: str, value: Any) -> Message:
    """What a broken `rule` of a field's schema means to the person filling it in."""
    if rule == "pattern" and value == "\\S":
        return Message("form.blank")
    if rule in ("minLength", "minItems") and value == 1:
        return Message("form.empty")
    if rule == "format" and value == "date" or (rule == "pattern" and "[0-9]{4}-" in str(value)):
        return Message("form.date")
    says = _SAYS_VALUE.get(rule)
    return says(value) if says else Message("form.invalid", {"rule": rule})


class FormLibrary:
    """All forms in a folder, by user-task id."""

    def __init__(self, folder: Path) -> None:
        self.forms: dict[str, Form] = {}
        for path in sorted(folder.glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            check_text_fields(schema, path.stem)
            check_words(schema, path.stem)
            validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            self.forms[path.stem] = Form(path.stem, schema, validator)

    def __contains__(self, name: str) -> bool:
        return name in self.forms

    def get(self, name: str) -> Form:
        return self.forms[name]
