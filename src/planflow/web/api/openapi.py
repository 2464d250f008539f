"""The OpenAPI 3.1 document, made from the operations as registered (registry.OPERATIONS) and
the task forms as the engine validates them, and a reference page of it rendered on the server."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from flask import Response, current_app, jsonify, render_template

from .registry import NO_CONTENT, OPERATIONS, all_components, operation, ref

PROBLEM_TYPE = "application/problem+json"


def document() -> dict[str, Any]:
    """The whole document; cached on the app (the operations and forms are fixed once loaded)."""
    cached = current_app.extensions.get("planflow.openapi")
    if cached is None:
        cached = current_app.extensions["planflow.openapi"] = _build()
    return cached  # type: ignore[no-any-return]


def _build() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
            for name in op.path_params
        ]
        parameters += [
            {"name": name, "in": "query", "required": name in op.required, "schema": schema}
            for name, schema in op.query.items()
        ]
        parameters += [
            {"name": name, "in": "header", "required": False, "schema": schema}
            for name, schema in op.headers.items()
        ]
        success: dict[str, Any] = {"description": op.summary}
        if op.status != NO_CONTENT and op.response is not None:
            success["content"] = {op.response_type: {"schema": op.response}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": {
                str(op.status): success,
                "default": {
                    "description": "A problem (RFC 9457), in the caller's language",
                    "content": {PROBLEM_TYPE: {"schema": ref("Problem")}},
                },
            },
        }
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
        entry["security"] = [] if op.public else [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "planflow API",
            "version": metadata.version("planflow"),
            "description": (
                "The reporting chain of a municipality's plan follow-up. Bearer tokens come from "
                "`planflow users token USERNAME`. Errors are application/problem+json (RFC 9457) "
                "in the caller's language (Accept-Language, else the user's setting); a 400's "
                "`errors` names each field at fault (a dotted path into the body such as "
                "`data.status`, or a query parameter or header) with a stable `code` and a "
                "`message`. Every task form is under components/schemas as `form.<task>`."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": all_components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@operation("GET", "/openapi.json", summary="This document", tag="meta", response={"type": "object"},
           public=True)  # fmt: skip
def openapi_json(query: dict[str, Any], body: None) -> Response:
    return jsonify(document())


@operation("GET", "/docs", summary="The reference page of this document (HTML)", tag="meta",
           response={"type": "string"}, public=True, response_type="text/html")  # fmt: skip
def reference(query: dict[str, Any], body: None) -> Response:
    return Response(render_template("api/reference.html", doc=document()), mimetype="text/html")
