"""Errors as application/problem+json (RFC 9457): `type` (a URN naming the error's catalog key),
`title` (the HTTP status in words), `status`, `detail` and, for 400, `errors`: the field at fault
(a dotted path into the JSON body such as `data.status`, a query parameter's or a header's name;
"" for the body as a whole) -> {"code": catalog key, "message": words}. All words are in the
caller's language: Accept-Language, else the user's setting, else Swedish."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from ...i18n import DEFAULT_LANGUAGE, LANGUAGES, Message
from ...services.errors import ServiceError
from ..http_status import status_of
from . import PREFIX

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: Message("problem.bad_request"),
    401: Message("problem.unauthorized"),
    403: Message("problem.forbidden"),
    404: Message("problem.not_found"),
    405: Message("problem.method_not_allowed"),
    409: Message("problem.conflict"),
    413: Message("problem.too_large"),
    415: Message("problem.media_type"),
    429: Message("problem.too_many"),
    500: Message("problem.server_error"),
}
# What werkzeug raises for routing and request errors, as catalog keys.
HTTP_CODES = {
    400: "error.api.bad_request",
    404: "error.api.no_route",
    405: "error.api.method",
    413: "error.api.too_large",
    415: "error.api.media_type",
}
HTTP_MESSAGES = (
    Message("error.api.bad_request"),
    Message("error.api.no_route"),
    Message("error.api.method"),
    Message("error.api.too_large"),
    Message("error.api.media_type"),
    Message("error.api.server"),
)


class ApiError(ServiceError):
    """An error of the API itself (authentication, the request's form), with its own status: the
    services' errors have theirs from the one table (http_status)."""

    def __init__(self, status: int, code: str, /, headers: Mapping[str, str] | None = None, **params: Any):
        super().__init__(code, **params)
        self.status = status
        self.headers = dict(headers or {})


def language() -> str:
    """Accept-Language, else the caller's own setting, else Swedish."""
    chosen = request.accept_languages.best_match(LANGUAGES)
    if chosen:
        return chosen
    own = g.get("user_language")
    return own if own in LANGUAGES else DEFAULT_LANGUAGE


def problem(
    status: int,
    message: Message,
    fields: Mapping[str, Message] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    lang = language()
    body: dict[str, Any] = {
        "type": f"urn:planflow:problem:{message.key}",
        "title": TITLES.get(status, TITLES[400 if status < 500 else 500]).render(lang),
        "status": status,
        "detail": message.render(lang),
        "code": message.key,
    }
    if fields or status == 400:
        body["errors"] = {
            name: {"code": m.key, "message": m.render(lang)} for name, m in sorted((fields or {}).items())
        }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_service(error: ServiceError) -> Response:
    if isinstance(error, ApiError):
        return problem(error.status, error.message, error.fields, error.headers)
    return problem(status_of(error), error.message, error.fields)


def _ours() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def init_app(app: Flask) -> None:
    # App-wide handlers, so that routing errors under /api/v1 are problems too; everything else
    # goes to the pages' own error handling (site), which would otherwise be shadowed.
    from .. import site

    def http_error(error: HTTPException) -> Any:
        if not _ours():
            return site.http_error(error)
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
        return problem(status, Message(HTTP_CODES.get(status, "error.api.bad_request")), headers=headers)

    def service_error(error: ServiceError) -> Any:
        return from_service(error) if _ours() else site.service_error(error)

    def unexpected(error: Exception) -> Response:
        if not _ours():
            raise error
        log.exception("unexpected error in %s %s", request.method, request.path)
        return problem(500, Message("error.api.server"))

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(Exception, unexpected)
