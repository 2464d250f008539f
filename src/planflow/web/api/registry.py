"""The operations of the API, each declared once with its schemas: `@operation` registers the
Flask view, checks the request against the schemas before the view runs, and keeps them for the
OpenAPI document (openapi.py), so the document and the checks cannot drift apart.

Why not APIFlask or flask-smorest: they describe requests in marshmallow, while the task forms
are JSON Schema 2020-12 files the engine already validates with; a marshmallow copy would be a
second description. Measured on this machine, a small validated POST costs the same either way
(~180 µs median through the test client), so fit decided."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from flask import Response, jsonify, request
from jsonschema import Draft202012Validator

from ...engine.forms import Form, FormError
from ...i18n import Message
from ...services.chain import instances
from ...services.errors import InvalidInput
from .. import control_characters
from . import bp
from .problems import ApiError

View = Callable[..., Any]
NO_CONTENT = 204


@dataclass(eq=False)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    status: int
    response: dict[str, Any] | None
    body: dict[str, Any] | None = None
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    public: bool = False
    response_type: str = "application/json"

    @property
    def path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", bp.url_prefix + self.rule)  # type: ignore[operator]

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


OPERATIONS: list[Operation] = []
COMPONENTS: dict[str, dict[str, Any]] = {}


def component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Publish a schema under components/schemas and return a reference to it."""
    COMPONENTS[name] = schema
    return ref(name)


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def form_schemas() -> dict[str, dict[str, Any]]:
    """Every task form, as the engine validates it, under the name `form.<task>`."""
    return {f"form.{name}": form.schema for name, form in sorted(instances.library().forms.forms.items())}


def all_components() -> dict[str, dict[str, Any]]:
    return {**COMPONENTS, **form_schemas()}


@cache
def _checker_for(op: Operation, part: str) -> Form:
    """The checker of an operation's body (`part` "") or one query parameter, made once."""
    if part == "":
        assert op.body is not None
        return _checker(op.endpoint, op.body)
    return _checker(part, {"type": "object", "properties": {part: op.query[part]}})


def _checker(name: str, schema: dict[str, Any]) -> Form:
    """A Form over an API schema: the same validator and the same per-field messages as task forms.
    References resolve against the published components."""
    rooted = {**schema, "components": {"schemas": all_components()}}
    validator = Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return Form(name, schema, validator)


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    response: dict[str, Any] | None,
    status: int = 200,
    body: dict[str, Any] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    required: tuple[str, ...] = (),
    headers: dict[str, dict[str, Any]] | None = None,
    public: bool = False,
    response_type: str = "application/json",
) -> Callable[[View], View]:
    """Declare and register an operation. The view gets the path parameters, `query` (checked
    and converted) and `body` (checked), and returns the response body (or a Response)."""

    def register(view: View) -> View:
        op = Operation(
            method, rule, view.__name__, summary, tag, status, response, body,
            query or {}, required, headers or {}, public, response_type,
        )  # fmt: skip
        OPERATIONS.append(op)

        def handle(**path: Any) -> Any:
            parsed_query = _query(op)
            parsed_body = _body(_checker_for(op, "")) if op.body is not None else None
            result = view(query=parsed_query, body=parsed_body, **path)
            if isinstance(result, Response):
                return result
            if op.status == NO_CONTENT:
                return Response(status=NO_CONTENT)
            reply = jsonify(result)
            reply.status_code = op.status
            return reply

        handle.__name__ = view.__name__
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        if public:
            from .auth import public as make_public

            make_public(view.__name__)
        return view

    return register


def _query(op: Operation) -> dict[str, Any]:
    """The query parameters, converted to their schema's type and checked; unknown ones refused."""
    fields: dict[str, Message] = {
        name: Message("form.unknown_field") for name in request.args if name not in op.query
    }
    values: dict[str, Any] = {}
    for name in op.query:
        raw = request.args.getlist(name)
        if not raw:
            if name in op.required:
                fields[name] = Message("form.required")
            continue
        try:
            values[name] = _query_value(op, name, raw)
        except FormError as exc:
            fields.update(exc.errors)
    if fields:
        raise InvalidInput("error.input.invalid", fields=fields)
    return values


def _query_value(op: Operation, name: str, raw: list[str]) -> Any:
    """One query parameter's value (given `raw`, every time it was given), converted to its
    schema's type and checked against the schema; FormError says what is wrong with it."""

    def wrong(message: Message) -> FormError:
        return FormError(name, {name: message})

    if len(raw) > 1:
        raise wrong(Message("form.once"))
    schema = op.query[name]
    kind = schema.get("type")
    try:
        value = _typed(raw[0], kind)
    except ValueError:
        raise wrong(Message("form.type", {"type": kind})) from None
    _checker_for(op, name).validate({name: value})
    if schema.get("format") != "date-time":
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise wrong(Message("form.datetime")) from None
    if moment.tzinfo is None:
        raise wrong(Message("form.datetime"))
    return moment


def _typed(value: str, kind: str | None) -> Any:
    """A query parameter's text as the schema's `kind` (integer, boolean; else the text itself)."""
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,12}", value):
            raise ValueError(value)
        return int(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(value)
        return value == "true"
    return value


def _body(checker: Form) -> Any:
    if request.mimetype != "application/json":
        raise ApiError(415, "error.api.media_type")
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidInput("error.api.malformed_json", fields={"": Message("form.json")}) from None
    control_characters.refuse_in_json(raw, data)  # the edge's check, on the one parse of the body
    try:
        return checker.validate(data)
    except FormError as exc:
        raise InvalidInput("error.input.invalid", fields=exc.errors) from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def in_data(error: InvalidInput, keep: frozenset[str] = frozenset({"Idempotency-Key"})) -> InvalidInput:
    """A service's field errors about a form, named as fields of the body's `data`."""
    fields = {(n if n in keep else f"data.{n}" if n else "data"): m for n, m in error.fields.items()}
    return InvalidInput(error.code, fields=fields, **error.params)
