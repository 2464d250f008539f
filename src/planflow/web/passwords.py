"""The page a link in an invitation or a reset mail opens (/password/<token>): the person sets
their own password, twice, without signing in; the link is the authority and is spent by it
(services.authority.invitations)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..db import get_db
from ..i18n import Message
from ..services.authority import invitations
from ..services.errors import InvalidInput, ServiceError
from .site import form_error, t

bp = Blueprint("passwords", __name__)


def _page(
    holder: Any, status: int = 200, errors: dict[str, str] | None = None
) -> tuple[str, int, dict[str, str]]:
    # The address holds a secret: no cache, no referrer to another site.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return render_template("auth/password.html", holder=holder, errors=errors or {}), status, headers


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Any:
    secret = current_app.config["SECRET_KEY"]
    with get_db().reading() as session:
        user = invitations.holder(session, secret, token)
        holder = None if user is None else {"name": user.display_name, "username": user.username}
    if holder is None:  # spent, expired or not a link at all: say so, offer nothing
        return _page(None, 404)
    if request.method != "POST":
        return _page(holder)
    password, again = request.form.get("password", ""), request.form.get("again", "")
    try:
        if password != again:
            raise InvalidInput("error.input.invalid", fields={"again": Message("form.password_again")})
        with get_db().transaction() as session:
            invitations.set_password(session, secret, token, password)
    except ServiceError as exc:
        refused = form_error(exc)
        return _page(holder, refused.status, refused.rendered())
    flash(t("ui.password.done", username=holder["username"]))
    return redirect(url_for("auth.login"))
