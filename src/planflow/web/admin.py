"""Administration: users (added with an invitation mail, sent a reset link) and roles,
substitutes, activity owners, reassigning tasks, API tokens (each chosen from a list of names),
and the mail that waits or was given up (mailer.outbox, as `planflow scheduler outbox` shows it).
Every change goes through services.people / services.tasks with the signed-in Actor: the services
check the authority and write the audit event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ..db import get_db
from ..i18n import Message
from ..services.authority import invitations, people, peopleview, sessions
from ..services.authority.access import UseCase
from ..services.chain import tasks
from ..services.errors import InvalidInput, ServiceError
from ..services.outputs import mailer
from ..services.records.audit import Actor
from .site import form_error, me, require, t

bp = Blueprint("admin", __name__)


def _day(form: MultiDict[str, str], name: str, required: bool = True) -> date | None:
    text = form.get(name, "").strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("error.input.invalid", fields={name: Message("form.date")}) from None


def _grant(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    user = people.get_user(session, form.get("username", "").strip())
    people.grant_role(session, actor, user, people.RoleSpec.parse(form.get("role", "").strip()))
    return t("ui.admin.done.grant")


def _revoke(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    spec = people.RoleSpec.parse(form.get("role", "").strip())
    people.revoke_role(session, actor, form.get("username", "").strip(), spec)
    return t("ui.admin.done.revoke")


def _substitute(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    starts, ends = _day(form, "starts_on"), _day(form, "ends_on", required=False)
    assert starts is not None
    people.add_substitute(
        session, actor, form.get("absent", "").strip(), form.get("substitute", "").strip(), starts, ends
    )
    return t("ui.admin.done.substitute")


def _owner(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    # The list's value is `plan/code` (peopleview.activity_choices): an activity in any plan.
    plan, _, code = form.get("code", "").strip().rpartition("/")
    try:
        people.set_activity_owner(session, actor, code, form.get("username", "").strip(), plan or None)
    except InvalidInput as exc:  # the edit's owner is this form's username
        fields = {"username" if name == "owner" else name: m for name, m in exc.fields.items()}
        raise InvalidInput(exc.code, fields=fields, **exc.params) from None
    return t("ui.admin.done.owner")


def _reassign(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    username = form.get("username", "").strip() or None
    tasks.reassign(session, actor, form.get("task_id", "").strip(), username, form.get("reason", ""))
    return t("ui.admin.done.reassign")


def _active(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    active = form.get("active") == "1"
    user = people.set_active(session, actor, form.get("username", "").strip(), active)
    done = "ui.admin.done.activated" if active else "ui.admin.done.deactivated"
    return t(done, name=user.display_name, username=user.username)


def _sign_out(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    user, count = sessions.sign_out_everywhere(session, actor, form.get("username", "").strip())
    return t("ui.admin.done.signed_out", name=user.display_name, username=user.username, count=count)


def _revoke_tokens(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    count = people.revoke_tokens(session, actor, form.get("username", "").strip())
    return t("ui.admin.done.tokens_revoked", count=count)


def _invite(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    """Add a person without a password and mail them the link that sets one."""
    user = people.add_user(
        session,
        actor,
        form.get("username", "").strip(),
        form.get("display_name", ""),
        form.get("email", "").strip(),
        language=form.get("language", ""),
    )
    config = current_app.config
    invitations.send_link(
        session, actor, user.username, "invite", config["SECRET_KEY"], config["LOCAL_LOGIN"]
    )
    return t("ui.admin.done.invited", name=user.display_name, email=user.email)


def _send_link(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    """Mail a person a new link that sets their password (an invitation again, or a reset)."""
    kind = form.get("kind", "")
    config = current_app.config
    sent = invitations.send_link(
        session, actor, form.get("username", "").strip(), kind, config["SECRET_KEY"], config["LOCAL_LOGIN"]
    )
    user = people.get_user(session, sent.username)
    done = "ui.admin.done.invite_sent" if kind == "invite" else "ui.admin.done.reset_sent"
    return t(done, name=user.display_name, email=user.email)


def _number(form: MultiDict[str, str], name: str) -> int:
    text = form.get(name, "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise InvalidInput("error.input.invalid", fields={"": Message("form.choose")})
    return int(text)


def _end_substitution(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    ended = people.end_substitution(session, actor, _number(form, "id"))
    return t("ui.admin.done.substitution_ended", absent=ended.absent.display_name)


def _end_token(session: Session, actor: Actor, form: MultiDict[str, str]) -> str:
    people.revoke_token(session, actor, _number(form, "id"))
    return t("ui.admin.done.token_ended")


ACTIONS: dict[str, Callable[[Session, Actor, MultiDict[str, str]], str]] = {
    "grant": _grant,
    "revoke": _revoke,
    "substitute": _substitute,
    "owner": _owner,
    "reassign": _reassign,
    "active": _active,
    "revoke_tokens": _revoke_tokens,
    "invite": _invite,
    "send_link": _send_link,
    "end_substitution": _end_substitution,
    "end_token": _end_token,
    "sign_out": _sign_out,
}


def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
    with get_db().reading() as session:
        actor = Actor(me(session))
        users = peopleview.directory(session, actor)
        lists: dict[str, Any] = {
            "users": users,
            "roles": peopleview.role_choices(session, actor),
            "activities": peopleview.activity_choices(session, actor),
            "open_tasks": peopleview.open_task_choices(session, actor),
            "substitutions": peopleview.current_substitutes(session, actor),
            "tokens": peopleview.tokens(session, actor),
            "outbox": mailer.outbox(session),  # as `planflow scheduler outbox` lists it
        }
    extra.setdefault("errors", {})
    extra.setdefault("action", None)
    names = {u.username: u.display_name for u in users}
    return render_template("admin/index.html", names=names, form=request.form, **lists, **extra), status


@bp.get("/admin")
@login_required
def index() -> tuple[str, int]:
    require(UseCase.MANAGE_PEOPLE)
    return _page()


@bp.get("/admin/users/<username>/deactivate")
@login_required
def confirm_deactivate(username: str) -> str:
    """Before an account is deactivated: whose it is, and what they still hold (peopleview.holdings)."""
    require(UseCase.MANAGE_PEOPLE)
    with get_db().reading() as session:
        held = peopleview.holdings(session, Actor(me(session)), username)
    return render_template("admin/deactivate.html", held=held)


@bp.post("/admin/<action>")
@login_required
def act(action: str) -> Any:
    require(UseCase.MANAGE_PEOPLE)
    if action == "token":
        username = request.form.get("username", "").strip()
        try:
            with get_db().transaction() as session:
                token = people.issue_token(session, Actor(me(session)), username)
        except ServiceError as exc:
            refused = form_error(exc)
            return _page(refused.status, action=action, errors=refused.rendered())
        # Shown once, on this page only: never put in a cookie, a redirect or any cache.
        page, status = _page(token=token, token_user=username, action=action)
        return page, status, {"Cache-Control": "no-store"}
    handler = ACTIONS.get(action)
    if handler is None:
        return _page(404)
    if action == "active" and request.form.get("active") != "1" and request.form.get("confirmed") != "1":
        # Deactivating is confirmed on a page that names the person and what they still hold.
        username = request.form.get("username", "").strip()
        return redirect(url_for("admin.confirm_deactivate", username=username))
    try:
        with get_db().transaction() as session:
            done = handler(session, Actor(me(session)), request.form)
    except ServiceError as exc:
        refused = form_error(exc)
        return _page(refused.status, action=action, errors=refused.rendered())
    flash(done)
    return redirect(url_for("admin.index"))
