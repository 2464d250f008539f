"""The JSON API at /api/v1: a thin entry point. Each route parses its input (validated against the
schemas the OpenAPI document publishes), opens one transaction, calls one service and shapes the
answer; who may do what is the services' (access.py) to say. Errors are problem+json (RFC 9457)
in the caller's language. Token-authenticated: it needs no CSRF protection (exempt it there)."""

from __future__ import annotations

from flask import Blueprint, Flask

PREFIX = "/api/v1"
MAX_BODY_BYTES = 256 * 1024  # the largest form (10,000 characters a field, a few fields) fits many times

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def init_app(app: Flask) -> None:
    """Register the API and its problem responses (for routing errors too, which Flask raises
    before any blueprint is chosen)."""
    from ..site import csrf
    from . import (  # noqa: F401
        auth,
        openapi,
        problems,
        routes_audit,
        routes_notices,
        routes_people,
        routes_plan,
        routes_reports,
        routes_tasks,
    )

    app.config.setdefault("API_MAX_BODY_BYTES", MAX_BODY_BYTES)
    problems.init_app(app)
    app.register_blueprint(bp)
    csrf.exempt(bp)  # token-authenticated: no cookies, no CSRF
