"""The caller, and the administrator's users, roles, substitutes and activity owners."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from ...db import get_db
from ...i18n import LANGUAGES
from ...services.authority import invitations, people, peopleview
from ...services.records.audit import Actor
from ...services.views import plain
from . import schemas as sc
from .auth import caller
from .registry import NO_CONTENT, operation

ROLE_SPEC = sc.s(100, pattern="^[a-z_]{2,32}(:[a-z0-9./-]{1,80})?$")


def admin(session: Any) -> Actor:
    return Actor(caller(session))


@operation("GET", "/me", summary="Who the caller is, its roles, and what it may do", tag="people",
           response=sc.ME)  # fmt: skip
def me(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return plain.to_json(peopleview.me(session, caller(session)))  # type: ignore[no-any-return]


@operation("GET", "/users", summary="Every user with roles and scopes (administrators)", tag="people",
           response=sc.USERS)  # fmt: skip
def users(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return {"items": plain.to_json(peopleview.directory(session, admin(session)))}


@operation(
    "POST",
    "/users",
    summary="Add a user with roles (administrators)",
    tag="people",
    response=sc.USER,
    status=201,
    body=sc.obj(
        {"username": sc.s(64), "display_name": sc.s(200), "email": sc.s(254)},
        {
            "language": {"enum": list(LANGUAGES)},
            "office": sc.opt(sc.s(200)),
            "roles": {**sc.array(ROLE_SPEC), "maxItems": 50},
        },
    ),
)
def add_user(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with get_db().transaction() as session:
        specs = [people.RoleSpec.parse(text) for text in body.get("roles", [])]
        user = people.add_user(
            session,
            admin(session),
            body["username"],
            body["display_name"],
            body["email"],
            specs,
            language=body.get("language", "sv"),
            office=body.get("office"),
        )
        return plain.to_json(peopleview.user_view(session, user))  # type: ignore[no-any-return]


@operation("POST", "/users/<username>/roles", summary="Grant a role, e.g. focus_area_lead:3 "
           "(administrators)", tag="people", response=None, status=NO_CONTENT,
           body=sc.obj({"role": ROLE_SPEC}))  # fmt: skip
def grant(username: str, query: dict[str, Any], body: dict[str, Any]) -> None:
    with get_db().transaction() as session:
        spec = people.RoleSpec.parse(body["role"])
        people.grant_role(session, admin(session), people.get_user(session, username), spec)


@operation("DELETE", "/users/<username>/roles", summary="Revoke a role; the right to act ends at once "
           "(administrators)", tag="people", response=sc.REVOKED, query={"role": ROLE_SPEC},
           required=("role",))  # fmt: skip
def revoke(username: str, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().transaction() as session:
        count = people.revoke_role(session, admin(session), username, people.RoleSpec.parse(query["role"]))
    return {"revoked": count}


@operation("GET", "/substitutes", summary="Every substitution (administrators)", tag="people",
           response=sc.SUBSTITUTIONS)  # fmt: skip
def substitutes(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return {"items": plain.to_json(peopleview.substitutes(session, admin(session)))}


@operation(
    "POST",
    "/substitutes",
    summary="Name a substitute to act for an absent person for a while (administrators)",
    tag="people",
    response=sc.SUBSTITUTION,
    status=201,
    body=sc.obj(
        {"absent": sc.USERNAME, "substitute": sc.USERNAME, "starts_on": sc.DATE},
        {"ends_on": sc.opt(sc.DATE)},
    ),
)
def add_substitute(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    ends = body.get("ends_on")
    with get_db().transaction() as session:
        substitution = people.add_substitute(
            session,
            admin(session),
            body["absent"],
            body["substitute"],
            date.fromisoformat(body["starts_on"]),
            date.fromisoformat(ends) if ends else None,
        )
        return plain.to_json(peopleview.substitution_view(substitution))  # type: ignore[no-any-return]


@operation(
    "PUT",
    "/activities/<code>/owner",
    summary="Make a user an activity's owner, as an edit of the plan: its open report follows, the "
    "office stays; with `version` (GET /activities/{code}), refused if the activity changed since "
    "(process leader, administrators)",
    tag="people",
    response=sc.OWNER,
    query=sc.PLAN_QUERY,
    body=sc.obj({"owner": sc.USERNAME}, {"version": sc.VERSION}),
)
def set_owner(code: str, query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with get_db().transaction() as session:
        view = people.set_activity_owner(
            session, admin(session), code, body["owner"], query.get("plan"), body.get("version")
        )
    return plain.to_json(view)  # type: ignore[no-any-return]


@operation("GET", "/roles", summary="Every role that can be granted, with the names of its plan and focus "
           "area; `spec` is what POST /users/{username}/roles takes (administrators)", tag="people",
           response=sc.ROLE_CHOICES)  # fmt: skip
def role_choices(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return {"items": plain.to_json(peopleview.role_choices(session, admin(session)))}


@operation("DELETE", "/substitutes/<int:substitution_id>", summary="End a substitution at once "
           "(administrators)", tag="people", response=sc.SUBSTITUTION)  # fmt: skip
def end_substitute(substitution_id: int, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().transaction() as session:
        ended = people.end_substitution(session, admin(session), substitution_id)
        return plain.to_json(peopleview.substitution_view(ended))  # type: ignore[no-any-return]


@operation("GET", "/tokens", summary="Every API token in force, never the token itself (administrators)",
           tag="people", response=sc.TOKENS)  # fmt: skip
def api_tokens(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return {"items": plain.to_json(peopleview.tokens(session, admin(session)))}


@operation("DELETE", "/tokens/<int:token_id>", summary="Revoke one API token (administrators)",
           tag="people", response=sc.REVOKED)  # fmt: skip
def end_token(token_id: int, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().transaction() as session:
        return {"revoked": int(people.revoke_token(session, admin(session), token_id))}


@operation(
    "POST",
    "/users/<username>/password-link",
    summary="Mail a person a one-time link that sets their password: an invitation or a reset "
    "(administrators); the link is mailed, never answered",
    tag="people",
    response=None,
    status=NO_CONTENT,
    body=sc.obj({"kind": {"enum": list(invitations.KINDS)}}),
)
def password_link(username: str, query: dict[str, Any], body: dict[str, Any]) -> None:
    with get_db().transaction() as session:
        config = current_app.config
        invitations.send_link(
            session, admin(session), username, body["kind"], config["SECRET_KEY"], config["LOCAL_LOGIN"]
        )
