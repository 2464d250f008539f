"""A person's notices: the list, in their language, with a link to each task (what is shown is
then marked read), "mark all read", and the person's own choice of how notices are mailed; and the
unsubscribe link every mail carries (List-Unsubscribe), which turns the person's mail off."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from ..db import get_db
from ..services.authority import access
from ..services.errors import InvalidInput
from ..services.outputs import notices
from ..services.records.audit import Actor
from .site import csrf, form_error, know, me, quote, t

bp = Blueprint("notices", __name__)


@bp.get("/notices")
@login_required
def index() -> str:
    with get_db().reading() as session:
        user = me(session)
        shown = notices.page(session, user, mark=quote)
        know(session, access.standing(session, user))
    unread = [n.id for n in shown.items if not n.read]
    if unread:  # seen now: this page still marks them as new, the header's count no longer
        with get_db().transaction() as session:
            user = me(session)
            notices.mark_read(session, user, unread)
            know(session, access.standing(session, user))
    return render_template("notices/index.html", shown=shown, choices=notices.MAIL_DELIVERIES)


@bp.post("/notices/read")
@login_required
def mark_all_read() -> Response:
    with get_db().transaction() as session:
        count = notices.mark_read(session, me(session))
    flash(t("ui.notices.marked", count=count))
    return redirect(url_for("notices.index"))


@bp.post("/notices/delivery")
@login_required
def delivery() -> Response | tuple[str, int]:
    """Everyone chooses how their own notices are mailed (the form names no one else)."""
    try:
        with get_db().transaction() as session:
            user = me(session)
            notices.set_mail_delivery(session, Actor(user), user.username, request.form.get("delivery", ""))
    except InvalidInput as exc:
        with get_db().reading() as session:
            user = me(session)
            shown = notices.page(session, user, mark=quote)
            know(session, access.standing(session, user))
        error = form_error(exc)
        page = render_template(
            "notices/index.html", shown=shown, choices=notices.MAIL_DELIVERIES, errors=error.rendered()
        )
        return page, error.status
    flash(t("ui.notices.delivery.saved"))
    return redirect(url_for("notices.index"))


@bp.get("/mail/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    """The page a mail's unsubscribe link opens: it asks first, since mail scanners open links."""
    with get_db().reading() as session:
        user = notices.unsubscriber(session, current_app.config["SECRET_KEY"], token)
        if user is None:
            abort(404)
        name, done = user.display_name, user.mail_delivery == "off"
    return render_template("notices/unsubscribe.html", name=name, done=done)


@bp.post("/mail/unsubscribe/<token>")
@csrf.exempt  # the signed token is the authority: a mail client's one-click POST has no session (RFC 8058)
def unsubscribe(token: str) -> str:
    """Turn the mail of the person the link names off (their one-click unsubscribe, or the page's button)."""
    with get_db().transaction() as session:
        user = notices.unsubscribe(session, current_app.config["SECRET_KEY"], token)
        if user is None:
            abort(404)
        name = user.display_name
    return render_template("notices/unsubscribe.html", name=name, done=True)
