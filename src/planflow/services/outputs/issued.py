"""Issuing a report: freeze what it says and how it reads. The content (canonical JSON) and each
rendered file are stored with their SHA-256; later changes to the plan never change them, and a
download gives the same bytes. Each issue signs the audit trail's head into a checkpoint first
and prints it in the documents, so the board's papers themselves anchor the trail.

The files are written by the caller's `render` (planflow.reports.render: the writers sit above the
services, which never import them); issuing stays one transaction with one audit event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...audit_keys import SigningKey
from ...documents.content import Content, Issue, as_json, canonical
from ...documents.files import FORMATS, MEDIA_TYPES, file_name
from ...i18n import LANGUAGES, Message, language_or_default
from ...models import IssuedReport, IssuedReportFile, Plan, User
from ..authority import access
from ..authority.access import UseCase
from ..chain import annual
from ..errors import Conflict, InvalidInput, NotFound, quote
from ..plan import plans
from ..records import audit, checkpoints
from ..records.audit import Actor
from ..views.plain import PAGES_ONLY
from .reports import steering_report

KINDS = ("steering", "annual")


class Render(Protocol):
    """Writes a report's content as a file in a format, in a language (planflow.reports.render)."""

    def __call__(self, content: Content, fmt: str, language: str, issue: Issue | None = None) -> bytes: ...


def content_of(session: Session, plan: Plan, kind: str, subject: str, *, issuing: bool = False) -> Content:
    """What a report says: `subject` is the period (steering) or the year (annual). A steering report
    is built from the records as they are; an annual report, once compiled, is what was compiled
    (annual.year_content), and only one the steering group approved is `issuing`."""
    if kind == "steering":
        return steering_report(session, plan, subject)
    if kind == "annual":
        if not subject.isdigit() or not clock.valid_year(int(subject)):
            raise InvalidInput("error.report.year", year=quote(subject))
        return annual.year_content(session, plan, int(subject), approved=issuing)
    raise InvalidInput("error.report.kind", kind=quote(kind))


def working_copy(session: Session, asking: Actor, kind: str, subject: str, plan_slug: str | None) -> Content:
    """A report as it reads today, not issued: for someone who may read the municipality's own
    records (the report page, `planflow report` without --issue)."""
    access.require(session, asking, UseCase.READ_INTERNAL)
    return content_of(session, plans.get_plan(session, plan_slug), kind, subject)


def check_format(kind: str, fmt: str) -> None:
    if fmt not in FORMATS.get(kind, ()):
        raise InvalidInput("error.report.format", kind=quote(kind), format=quote(fmt))


def issue_report(
    session: Session,
    actor: Actor,
    signer: SigningKey,
    kind: str,
    subject: str,
    plan_slug: str | None = None,
    language: str | None = None,
    *,
    render: Render,
    expected_number: int | None = None,
) -> IssuedReport:
    """Issue the report of a period or a year in every format it comes in, each written by `render`
    (the process leader or an admin); a second issue of the same subject gets the next number and
    leaves the first as it was. `expected_number`, the number a confirmation showed
    (`preview_issue`), refuses the issue when another issue came in between."""
    actor = access.require(session, actor, UseCase.ISSUE_REPORT)
    plan = plans.get_plan(session, plan_slug)
    language = _language(language)
    content = content_of(session, plan, kind, subject, issuing=True)
    number = _next_number(session, plan, kind, subject)
    if expected_number is not None and expected_number != number:
        raise _number_taken(plan, kind, subject)
    checkpoint = checkpoints.make_checkpoint(session, signer)
    issue = Issue(
        number=number,
        issued_at=clock.now(),
        issued_by=actor.principal.display_name if actor.principal else actor.name,
        checkpoint_seq=checkpoint.seq,
        checkpoint_hash=checkpoint.hash,
        checkpoint_made_at=checkpoint.made_at,
        key_id=checkpoint.key_id,
    )
    data = {"report": as_json(content), "issue": issue.as_json(), "language": language}
    report = IssuedReport(
        plan_id=plan.id,
        kind=kind,
        subject=subject,
        number=issue.number,
        language=language,
        issued_at=issue.issued_at,
        issued_by=actor.name,
        on_behalf_of=actor.on_behalf_of.username if actor.on_behalf_of else None,
        checkpoint_seq=checkpoint.seq,
        checkpoint_hash=checkpoint.hash,
        content=data,
        sha256=hashlib.sha256(canonical(data)).hexdigest(),
    )
    for fmt in FORMATS[kind]:
        rendered = render(content, fmt, language, issue)
        report.files.append(
            IssuedReportFile(format=fmt, data=rendered, sha256=hashlib.sha256(rendered).hexdigest())
        )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # another issue of the subject took the number between our read and insert
        raise _number_taken(plan, kind, subject) from None
    _audit_issue(session, actor, plan, report)
    return report


def _number_taken(plan: Plan, kind: str, subject: str) -> Conflict:
    """The number a confirmation showed is not the one the issue would get (another came first)."""
    return Conflict(
        "error.report.number_taken",
        report={"key": f"report.kind.{kind}", "params": {"subject": subject}},
        plan=plan.title,
    )


@dataclass(frozen=True)
class IssuePreview:
    """What issuing a report now would freeze, for the person to confirm: which report of which
    plan, in which language, under which number, and how many issues of it there are already."""

    plan: str
    plan_title: str
    kind: str
    subject: str
    language: str
    number: int
    earlier: int


def preview_issue(
    session: Session,
    actor: Actor,
    kind: str,
    subject: str,
    plan_slug: str | None = None,
    language: str | None = None,
) -> IssuePreview:
    """The issue `issue_report` would make now, for someone who may issue reports: refused as the
    issue itself would be (the right, an unknown kind, a period without a cycle, a year out of range)."""
    access.require(session, actor, UseCase.ISSUE_REPORT)
    plan = plans.get_plan(session, plan_slug)
    language = _language(language)
    content_of(session, plan, kind, subject, issuing=True)
    number = _next_number(session, plan, kind, subject)
    return IssuePreview(plan.slug, plan.title, kind, subject, language, number, number - 1)


def _language(language: str | None) -> str:
    """The document's language: one planflow speaks (None: the installation's default)."""
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(
            "error.report.language",
            fields={"language": Message("form.one_of", {"choices": ", ".join(LANGUAGES)})},
            language=quote(language),
        )
    return language_or_default(language)


def _next_number(session: Session, plan: Plan, kind: str, subject: str) -> int:
    latest = session.scalar(
        select(func.max(IssuedReport.number)).where(
            IssuedReport.plan_id == plan.id, IssuedReport.kind == kind, IssuedReport.subject == subject
        )
    )
    return 1 + (latest or 0)


def _audit_issue(session: Session, actor: Actor, plan: Plan, report: IssuedReport) -> None:
    audit.record(
        session,
        actor,
        "report.issued",
        "report",
        report.id,
        {
            "plan": plan.slug,
            "kind": report.kind,
            "subject": report.subject,
            "number": report.number,
            "sha256": report.sha256,
            "files": {f.format: f.sha256 for f in report.files},
            "checkpoint": {"seq": report.checkpoint_seq, "hash": report.checkpoint_hash},
        },
    )


@dataclass(frozen=True)
class IssuedSummary:
    """An issued report as its lists and its page show it: which, when, by whom, its hashes and
    the formats its frozen files come in."""

    id: int
    kind: str
    subject: str
    number: int
    issued_at: datetime
    issued_by: str  # a username, as the record keeps it
    checkpoint_seq: int
    sha256: str
    formats: list[str]
    language: str
    plan: str
    issued_by_name: str | None = field(default=None, metadata=PAGES_ONLY)  # who, by name, on pages


def list_issued(session: Session, plan: Plan) -> list[IssuedSummary]:
    """A plan's issued reports, newest first."""
    rows = session.scalars(
        select(IssuedReport).where(IssuedReport.plan_id == plan.id).order_by(IssuedReport.id.desc())
    ).all()
    formats, names = _formats(session, [r.id for r in rows]), _names(session, rows)
    return [_summary(r, plan, formats.get(r.id, []), names.get(r.issued_by)) for r in rows]


def get_issued(session: Session, asking: Actor, report_id: int) -> IssuedSummary:
    """One issued report, for someone who may read the municipality's own records."""
    access.require(session, asking, UseCase.READ_INTERNAL)
    report = session.get(IssuedReport, report_id)
    if report is None:
        raise NotFound("error.report.not_found", id=report_id)
    plan = session.get(Plan, report.plan_id)
    assert plan is not None
    formats, names = _formats(session, [report.id]), _names(session, [report])
    return _summary(report, plan, formats.get(report.id, []), names.get(report.issued_by))


def _formats(session: Session, report_ids: list[int]) -> dict[int, list[str]]:
    formats: dict[int, list[str]] = {}
    for report_id, fmt in session.execute(
        select(IssuedReportFile.report_id, IssuedReportFile.format)
        .where(IssuedReportFile.report_id.in_(report_ids))
        .order_by(IssuedReportFile.format)
    ):
        formats.setdefault(report_id, []).append(fmt)
    return formats


def _names(session: Session, reports: Sequence[IssuedReport]) -> dict[str, str]:
    """Who issued the reports, by name (the record keeps the username)."""
    usernames = {r.issued_by for r in reports}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(usernames)))
    return {username: name for username, name in rows}


def _summary(r: IssuedReport, plan: Plan, formats: list[str], name: str | None) -> IssuedSummary:
    return IssuedSummary(
        r.id, r.kind, r.subject, r.number, r.issued_at, r.issued_by, r.checkpoint_seq, r.sha256,
        formats, r.language, plan.slug, name,
    )  # fmt: skip


@dataclass(frozen=True)
class IssuedFile:
    name: str
    media_type: str
    data: bytes


def issued_file(session: Session, report_id: int, fmt: str) -> IssuedFile:
    """An issued report's file as it was issued; refused if its bytes no longer match their hash."""
    row = session.execute(
        select(IssuedReport, IssuedReportFile)
        .join(IssuedReportFile, IssuedReportFile.report_id == IssuedReport.id)
        .where(IssuedReport.id == report_id, IssuedReportFile.format == fmt)
    ).first()
    if row is None:
        raise NotFound("error.report.not_found", id=f"{report_id}/{quote(fmt)}")
    report, file = row
    if hashlib.sha256(file.data).hexdigest() != file.sha256:
        raise Conflict("error.report.tampered", id=report_id, format=fmt)
    plan = session.get(Plan, report.plan_id)
    name = file_name(plan.slug if plan else "plan", report.kind, report.subject, fmt, report.number)
    return IssuedFile(name, MEDIA_TYPES[fmt], bytes(file.data))
