"""Reports as pages that print well, and the same downloads the CLI writes: working copies of the
steering group's and the board's reports, and the issued (frozen) ones byte for byte.

There is no sign-in yet (the web issue brings it): until then these pages are as open as the plan
page. Issuing needs a person (UseCase.ISSUE_REPORT), so it is the CLI's (`report … --issue --as`)
until the pages know who is signed in."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import reports
from ..db import get_db
from ..models import ReportingCycle
from ..reports import html as report_html
from ..services import cycles, issued, plans
from ..services.access import UseCase
from ..services.errors import ServiceError
from ..services.reports import Content
from .site import language, require

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
@login_required
def _municipal_readers_only() -> None:
    """Reports are internal records: signed-in municipal users read them (access.UseCase)."""
    require(UseCase.READ_INTERNAL)


def _language() -> str:
    return language()


def _content(kind: str, subject: str) -> Content:
    with get_db().reading() as session:
        try:
            return issued.content_of(session, plans.get_plan(session), kind, subject)
        except ServiceError as exc:
            abort(404, exc.render(_language()))


@bp.get("/")
def index() -> str:
    with get_db().reading() as session:
        plan = plans.plan_tree(session)
        if plan is None:
            return render_template("reports/index.html", plan=None, periods=[], years=[], issued=[])
        row = plans.get_plan(session)
        periods = [c.period for c in cycles_of(session, row.id)]
        listed = issued.list_issued(session, row)
    years = sorted({int(p[:4]) for p in periods}, reverse=True)
    return render_template(
        "reports/index.html", plan=plan, periods=periods, years=years, issued=listed, when=reports.when
    )


def cycles_of(session: Session, plan_id: int) -> list[ReportingCycle]:
    found = session.scalars(select(ReportingCycle).where(ReportingCycle.plan_id == plan_id)).all()
    return sorted(found, key=lambda c: cycles.period_bounds(c.period), reverse=True)


@bp.get("/steering/<period>")
def steering(period: str) -> str:
    content = _content("steering", period)
    return render_template("reports/page.html", **report_html.context(content, _language(), None))


@bp.get("/annual/<int:year>")
def annual(year: int) -> str:
    content = _content("annual", str(year))
    return render_template("reports/page.html", **report_html.context(content, _language(), None))


# Downloads live under /files/: a period such as 2026-Q4 would otherwise also match the page
# /steering/<period> with the extension glued on.
@bp.get("/files/<kind>/<subject>.<fmt>")
def download(kind: str, subject: str, fmt: str) -> Response:
    if fmt not in reports.FORMATS.get(kind, ()):
        abort(404)
    content = _content(kind, subject)
    data = reports.render(content, fmt, _language())
    return _file(data, reports.file_name(content, fmt), fmt)


@bp.get("/issued/<int:report_id>.<fmt>")
def issued_download(report_id: int, fmt: str) -> Response:
    with get_db().reading() as session:
        try:
            frozen = issued.issued_file(session, report_id, fmt)
        except ServiceError as exc:
            abort(404, exc.render(_language()))
    return _file(frozen.data, frozen.name, fmt)


def _file(data: bytes, name: str, fmt: str) -> Response:
    disposition = "inline" if fmt == "pdf" else "attachment"
    return Response(
        data,
        mimetype=reports.MEDIA_TYPES[fmt].split(";")[0],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
