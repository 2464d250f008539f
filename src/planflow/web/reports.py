"""Reports as pages that print well, and the same downloads the CLI writes: working copies of the
steering group's and the board's reports, and the issued (frozen) ones byte for byte.

Signed-in municipal users read them. The process leader starts the year's annual report here
(UseCase.START_ANNUAL_REPORT, through services.annual as the API does), and issues a report from its
page after a confirmation that says what will be frozen under which number (UseCase.ISSUE_REPORT,
through services.issued as the API and `planflow report … --issue` do)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from .. import audit_keys, reports
from ..db import get_db
from ..documents import files
from ..documents.compose import compose, when
from ..documents.content import Content
from ..i18n import Message
from ..reports import html as report_html
from ..services.authority.access import UseCase
from ..services.chain import annual as annual_service
from ..services.chain import cycles
from ..services.errors import Conflict, InvalidInput, NotFound
from ..services.outputs import issued
from ..services.plan import plans
from ..services.records import case_numbers
from ..services.records.audit import Actor
from ..services.views import cycleview
from .http_status import status_of
from .plan import named_plan
from .site import form_error, language, may, me, require, t, today

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
@login_required
def _municipal_readers_only() -> None:
    """Reports are internal records: signed-in municipal users read them (access.UseCase)."""
    require(UseCase.READ_INTERNAL)


def _language() -> str:
    return language()


def _content(kind: str, subject: str) -> Content:
    with get_db().reading() as session:  # a refusal answers with its own status (site.service_error)
        return issued.working_copy(session, Actor(me(session)), kind, subject, named_plan())


@bp.get("/")
def index(
    errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    with get_db().reading() as session:
        plan = plans.plan_tree(session, named_plan())
        if plan is None:
            return render_template(
                "reports/index.html", plan=None, periods=[], years=[], issued=[], annual_reports=[]
            ), status
        row = plans.get_plan(session, named_plan())
        listed_cycles = cycleview.list_cycles(session, me(session), row.slug)
        periods = sorted((c.period for c in listed_cycles), key=cycles.period_bounds, reverse=True)
        listed = issued.list_issued(session, row)
        started = annual_service.list_reports(session, row)
    years = sorted({int(p[:4]) for p in periods} | {r.year for r in started}, reverse=True)
    return render_template(
        "reports/index.html",
        plan=plan,
        periods=periods,
        years=years,
        issued=listed,
        formats=files.FORMATS,
        when=when,
        annual_reports=started,
        can_start_annual=may(UseCase.START_ANNUAL_REPORT),
        errors=errors or {},
        values=values or {"year": str(today().year)},
        plan_slug=named_plan(),
    ), status


@bp.post("/annual")
def start_annual() -> Any:
    """Start the year's annual report: the process leader's compiling task opens at once."""
    require(UseCase.START_ANNUAL_REPORT)
    text = request.form.get("year", "").strip()
    values = {"year": text}
    try:
        if not re.fullmatch(r"[0-9]{1,9}", text):  # a number: which years may be reported is the service's
            raise InvalidInput("error.input.invalid", fields={"year": Message("form.year")})
        with get_db().transaction() as session:
            actor = Actor(me(session))
            year = annual_service.start_annual_report(session, actor, int(text), named_plan()).year
    except (InvalidInput, Conflict) as exc:
        refused = form_error(exc)
        return index(refused.rendered(), values, refused.status)
    flash(t("ui.annual.started", year=year))
    return redirect(url_for("reports.index", plan=named_plan()))


def _page(
    content: Content,
    errors: dict[str, str] | None = None,
    case_number: str | None = None,
    decision_failed: dict[str, Any] | None = None,
) -> str:
    """A report's page; `errors` and `case_number` a refused report's number as typed, and
    `decision_failed` a refused decision's: its id, the messages and what was typed."""
    document = compose(content, _language())
    formats = files.FORMATS[content.kind]
    decisions: list[case_numbers.NumberedDecision] = []
    if content.kind == "steering" and may(UseCase.ISSUE_REPORT):
        decisions = _decisions(content.subject)
    return render_template(
        "reports/page.html",
        r=content,
        formats=formats,
        plan_slug=named_plan(),
        can_issue=may(UseCase.ISSUE_REPORT),
        errors=errors or {},
        case_number=content.case_number if case_number is None else case_number,
        decisions=decisions,
        decision_failed=decision_failed,
        **report_html.context(document),
    )


def _decisions(period: str) -> list[case_numbers.NumberedDecision]:
    with get_db().reading() as session:
        return case_numbers.cycle_decisions(session, Actor(me(session)), period, named_plan())


# The record whose case number a report prints: a steering report's cycle, the annual report.
CASE_SUBJECTS = {"steering": "cycle", "annual": "annual_report"}


@bp.post("/case-number/<kind>/<subject>")
def case_number(kind: str, subject: str) -> Any:
    """Register the report's diarienummer (the process leader, as `planflow report case-number`)."""
    if kind not in CASE_SUBJECTS:
        abort(404)
    typed = request.form.get("case_number", "")
    try:
        with get_db().transaction() as session:
            kept = case_numbers.set_case_number(
                session, Actor(me(session)), CASE_SUBJECTS[kind], subject, typed, named_plan()
            )
    except (InvalidInput, NotFound) as exc:
        refused = form_error(exc)
        return _page(_content(kind, subject), refused.rendered(), typed), refused.status
    flash(t("ui.case_number.saved", number=kept.number) if kept.number else t("ui.case_number.cleared"))
    if kind == "steering":
        return redirect(url_for("reports.steering", period=subject, plan=named_plan()))
    return redirect(url_for("reports.annual", year=int(subject), plan=named_plan()))


@bp.post("/steering/<period>/decisions/<int:decision_id>/case-number")
def decision_case_number(period: str, decision_id: int) -> Any:
    """Register the diarienummer of a steering decision the period's report prints (the process
    leader, as `planflow report case-number decision`)."""
    require(UseCase.ISSUE_REPORT)
    if decision_id not in {d.id for d in _decisions(period)}:
        abort(404)  # not a decision of this report: its page would not show the number
    typed = request.form.get("case_number", "")
    try:
        with get_db().transaction() as session:
            kept = case_numbers.set_case_number(
                session, Actor(me(session)), "decision", str(decision_id), typed, named_plan()
            )
    except InvalidInput as exc:
        refused = form_error(exc)
        failed = {"id": decision_id, "errors": refused.rendered(), "typed": typed}
        return _page(_content("steering", period), decision_failed=failed), refused.status
    flash(t("ui.case_number.saved", number=kept.number) if kept.number else t("ui.case_number.cleared"))
    return redirect(
        url_for("reports.steering", period=period, plan=named_plan(), _anchor=f"decision-{decision_id}")
    )


@bp.get("/steering/<period>")
def steering(period: str) -> str:
    return _page(_content("steering", period))


@bp.get("/annual/<int:year>")
def annual(year: int) -> str:
    return _page(_content("annual", str(year)))


# Downloads live under /files/: a period such as 2026-Q4 would otherwise also match the page
# /steering/<period> with the extension glued on.
def _report_words(kind: str, subject: str) -> str:
    return t(f"report.kind.{kind}", subject=subject)


@bp.get("/issue/<kind>/<subject>")
def confirm_issue(kind: str, subject: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """What issuing the report now would freeze (the report, its language, the number it gets),
    for the person to confirm; refused as the issue would be (issued.preview_issue)."""
    chosen = request.values.get("language") or _language()
    with get_db().reading() as session:
        preview = issued.preview_issue(session, Actor(me(session)), kind, subject, named_plan(), chosen)
    return render_template(
        "reports/issue.html",
        p=preview,
        report=_report_words(kind, subject),
        formats=files.FORMATS[kind],
        error=error,
        plan_slug=named_plan(),
    ), status


@bp.post("/issue/<kind>/<subject>")
def issue(kind: str, subject: str) -> Any:
    """Issue the report as confirmed: refused, with the confirmation shown again, when another issue
    took its number meanwhile."""
    number = request.form.get("number", "")
    # The confirmation sends the number it showed; without one (0, never a number) the service
    # refuses as for a stale confirmation, after checking the right, and the confirmation shows.
    expected = int(number) if re.fullmatch(r"[0-9]{1,9}", number) else 0
    signer = _signer()
    try:
        with get_db().transaction() as session:
            row = issued.issue_report(
                session,
                Actor(me(session)),
                signer,
                kind,
                subject,
                named_plan(),
                request.form.get("language") or None,
                render=reports.render,
                expected_number=expected,
            )
            report_id, issued_number = row.id, row.number
    except Conflict as exc:
        return confirm_issue(kind, subject, exc.render(_language()), status_of(exc))
    flash(t("ui.issue.done", report=_report_words(kind, subject), number=issued_number))
    return redirect(url_for("reports.issued_page", report_id=report_id))


def _signer() -> audit_keys.SigningKey:
    """The key that signs the checkpoint an issue anchors, as `planflow report --issue` loads it."""
    try:
        return audit_keys.signing_key(current_app.config, current_app.instance_path)
    except ValueError:
        current_app.logger.exception("the audit signing key cannot be loaded: nothing is issued")
        abort(500)


@bp.get("/issued/<int:report_id>")
def issued_page(report_id: int) -> str:
    """An issued report: which, when, by whom, its hashes, and its frozen files to download."""
    with get_db().reading() as session:
        summary = issued.get_issued(session, Actor(me(session)), report_id)
    return render_template(
        "reports/issued.html",
        r=summary,
        report=_report_words(summary.kind, summary.subject),
        when=when,
        plan_slug=summary.plan,
    )


@bp.get("/files/<kind>/<subject>.<fmt>")
def download(kind: str, subject: str, fmt: str) -> Response:
    if fmt not in files.FORMATS.get(kind, ()):
        abort(404)
    content = _content(kind, subject)
    data = reports.render(content, fmt, _language())
    return _file(data, files.file_name(content.plan.slug, content.kind, content.subject, fmt), fmt)


@bp.get("/issued/<int:report_id>.<fmt>")
def issued_download(report_id: int, fmt: str) -> Response:
    with get_db().reading() as session:  # a tampered file is a Conflict, answered as the API would
        frozen = issued.issued_file(session, report_id, fmt)
    return _file(frozen.data, frozen.name, fmt)


def _file(data: bytes, name: str, fmt: str) -> Response:
    disposition = "inline" if fmt == "pdf" else "attachment"
    return Response(
        data,
        mimetype=files.MEDIA_TYPES[fmt].split(";")[0],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
