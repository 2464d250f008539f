"""A task's form drawn from its JSON Schema on the server, in the reader's language, and the posted
fields read back into the shape the schema checks. Only the schema's keys are read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from ..engine.forms import form_words
from ..i18n import Message, text

# Text longer than this gets a text area rather than a one-line field.
SHORT_TEXT = 300


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str | None
    # radio | textarea | text | date | checkbox | lines | select (`choose_from`) | checkboxes
    # (`choose_many`)
    kind: str
    required: bool
    value: Any
    error: str | None
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    # Required only when another field has one of some values (the cause when yellow or red).
    when_field: str | None = None
    when_values: list[str] = field(default_factory=list)
    when_text: str | None = None
    # The language of the choices' labels when it is not the page's (plan content, in Swedish).
    choices_lang: str | None = None


def _kind(spec: Mapping[str, Any]) -> str:
    if "enum" in spec:
        return "radio"
    if spec.get("type") == "boolean":
        return "checkbox"
    if spec.get("type") == "array":
        return "lines"
    if spec.get("format") == "date":
        return "date"
    if int(spec.get("maxLength", 0)) > SHORT_TEXT:
        return "textarea"
    return "text"


def _conditions(schema: Mapping[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Fields the schema requires only under an `if`: field -> (the field it depends on, its values)."""
    condition, then = schema.get("if"), schema.get("then")
    if not isinstance(condition, dict) or not isinstance(then, dict):
        return {}
    tests = condition.get("properties", {})
    if len(tests) != 1:
        return {}
    ((on, test),) = tests.items()
    values = test.get("enum") or ([test["const"]] if "const" in test else [])
    return {name: (on, [str(v) for v in values]) for name in then.get("required", [])}


def fields(
    schema: Mapping[str, Any],
    language: str,
    values: Mapping[str, Any],
    errors: Mapping[str, Message],
    shown_when: Any = None,
) -> list[Field]:
    """The form's fields, labelled in `language` (engine.forms.form_words picks the words), holding
    `values`, with `errors` beside them."""
    required = set(schema.get("required", []))
    conditional = _conditions(schema)
    words = form_words(schema, language)
    result = []
    for name, spec in schema.get("properties", {}).items():
        kind = _kind(spec)
        said = words.fields[name]
        value = values.get(name)
        if kind == "lines" and isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        when_field: str | None = None
        when_values: list[str] = []
        when_text: str | None = None
        if name in conditional:
            when_field, when_values = conditional[name]
            on = words.fields.get(when_field)
            on_label = on.label if on else when_field
            on_values = [on.choice(v) if on else v for v in when_values]
            when_text = (
                shown_when(on_label, on_values)
                if shown_when
                else text(
                    language, "ui.form.required_when", {"field": on_label, "values": " / ".join(on_values)}
                )
            )
        error = errors.get(name)
        if error is not None and error.key == "form.one_of" and said.choices:
            # the page offers the choices by their labels, so its error names them so too
            error = Message("form.one_of", {"choices": ", ".join(label for _, label in said.choices)})
        result.append(
            Field(
                name=name,
                label=said.label,
                help=said.help,
                kind=kind,
                required=name in required,
                value=value,
                error=error.render(language) if error else None,
                choices=list(said.choices),
                max_length=spec.get("maxLength"),
                when_field=when_field,
                when_values=when_values,
                when_text=when_text,
            )
        )
    return result


def choose_from(
    form_fields: list[Field],
    name: str,
    choices: list[tuple[str, str]],
    help: str | None = None,
    choices_lang: str | None = None,
) -> list[Field]:
    """The fields with `name` drawn as a choice list of `choices` (value, label), for a page that
    knows which of the values the schema accepts make sense for the reader, labelled in
    `choices_lang` when that is not the page's language. With nothing to choose
    from the field stays as the schema draws it; the server checks the value either way."""
    if not choices:
        return form_fields
    return [
        replace(
            f,
            kind="select",
            choices=choices,
            help=help if help is not None else f.help,
            choices_lang=choices_lang,
        )
        if f.name == name
        else f
        for f in form_fields
    ]


def choose_many(
    form_fields: list[Field], name: str, choices: list[tuple[str, str]], help: str | None = None
) -> list[Field]:
    """The list field `name` drawn as a checkbox per choice (value, label), for a page that knows
    which values make sense now (the deviations a meeting may leave open). With nothing to choose
    from the field is left out: the server checks the value either way."""
    if not choices:
        return [f for f in form_fields if f.name != name]
    return [
        replace(
            f,
            kind="checkboxes",
            choices=choices,
            help=help if help is not None else f.help,
            value=f.value.splitlines() if isinstance(f.value, str) else list(f.value or []),
        )
        if f.name == name
        else f
        for f in form_fields
    ]


def read(schema: Mapping[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """The posted fields the schema names, typed as it expects; a field left empty is absent."""
    data: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        kind = _kind(spec)
        raw = form.get(name)
        if kind == "checkbox":
            if raw is not None:
                data[name] = raw in ("true", "on", "1")
        elif kind == "lines":  # one text area, a value a line, or a checkbox per value
            given = form.getlist(name)
            lines = [line.strip() for value in given for line in value.splitlines() if line.strip()]
            if lines:
                data[name] = lines
        elif raw:
            data[name] = raw.replace("\r\n", "\n")
    return data


# Lists a form's schema may ask its field to be chosen from (`"x-choices": "people"`): a page draws
# the field as that list, worded from the catalogs (ui.form.choices.<list>), and the service still
# checks the value sent. "people": who may own an activity (activity_edits.people_to_choose).
CHOICE_SOURCES = ("people",)


@dataclass(frozen=True)
class Choices:
    options: list[tuple[str, str]]  # (value sent, label shown)
    help: str


def choice_lists(session: Any, schema: Mapping[str, Any], words: Callable[[str], str]) -> dict[str, Choices]:
    """The lists the schema's fields ask to be chosen from, read in the page's `session` and
    worded by `words` (the page's `t`): people by name and office, sent as their username.
    Nothing is read for a schema that asks for none."""
    from ..services.plan import activity_edits

    wanted = {spec.get("x-choices") for spec in schema.get("properties", {}).values()}
    lists: dict[str, Choices] = {}
    if "people" in wanted:
        people = activity_edits.people_to_choose(session)
        options = [(p.username, f"{p.name}, {p.office}" if p.office else p.name) for p in people]
        lists["people"] = Choices(options, words("ui.form.choices.people"))
    return lists


def with_choices(
    form_fields: list[Field], schema: Mapping[str, Any], lists: Mapping[str, Choices]
) -> list[Field]:
    """The fields whose schema says `"x-choices": <list>` drawn as that list (choose_from); the
    rest as they are, and a field whose list is empty too."""
    for name, spec in schema.get("properties", {}).items():
        chosen = lists.get(spec.get("x-choices", ""))
        if chosen is not None:
            form_fields = choose_from(form_fields, name, chosen.options, chosen.help)
    return form_fields
