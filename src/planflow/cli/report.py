"""`planflow report`: the steering group's status report and the annual report, as working copies
or issued (frozen, audited, anchored by a signed checkpoint), and the issued ones listed and read."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session

from .. import clock, reports
from ..documents.files import FORMATS
from ..i18n import LANGUAGES
from ..services.outputs import issued
from ..services.plan import plans
from ..services.records import case_numbers
from ..services.records.audit import OPERATOR_ACTOR
from .base import (
    PLAN_HELP,
    as_user,
    echo,
    in_transaction,
    language,
    reading,
    say,
    signing_key,
    usage_error,
    write_file,
)

LANGUAGE = click.Choice(LANGUAGES)
ANY_FORMAT = sorted({fmt for formats in FORMATS.values() for fmt in formats})
ISSUE_HELP = "Issue it: freeze it, audited and anchored by a signed checkpoint."
AS_HELP = "Who issues it: the process leader or an admin."
LANGUAGE_HELP = "The document's language (default: the run's, `planflow --language`)."
# What a case number is registered on, in the run's words (case_numbers.SUBJECTS).
CASE_SUBJECTS = {
    "cycle": "cli.report.case_subject.cycle",
    "decision": "cli.report.case_subject.decision",
    "annual_report": "cli.report.case_subject.annual_report",
}


@click.group()
def report() -> None:
    """The steering group's status report and the annual report to the board."""


def _issue(
    kind: str, subject: str, fmt: str, out: Path, plan_slug: str | None, words: str, username: str
) -> None:
    """Issue the report, write the format asked for, and say what was frozen."""
    signer = signing_key()

    def freeze(session: Session) -> tuple[int, int, str, int, str]:
        row = issued.issue_report(
            session,
            as_user(session, username),
            signer,
            kind,
            subject,
            plan_slug,
            words,
            render=reports.render,
        )
        return row.id, row.number, row.sha256, row.checkpoint_seq, row.checkpoint_hash

    report_id, number, sha256, seq, head = in_transaction(freeze)
    frozen = reading(lambda session: issued.issued_file(session, report_id, fmt))
    write_file(out, frozen.data)
    name = say(f"cli.report.kind.{kind}")
    echo("cli.report.issued", report=name, subject=subject, number=number, id=report_id, path=str(out))
    labels = {"sha256": say("cli.report.label.sha256"), "checkpoint": say("cli.report.label.checkpoint")}
    width = max(map(len, labels.values()))
    click.echo(f"  {labels['sha256']:<{width}}  {sha256}")
    click.echo(f"  {labels['checkpoint']:<{width}}  {say('cli.report.anchor', seq=seq, hash=head)}")


def _report(
    kind: str,
    subject: str,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    document_language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    words = document_language or language()
    if issue:
        if not username:
            raise usage_error("cli.report.issue_needs_as")
        _issue(kind, subject, fmt, out, plan_slug, words, username)
        return

    def draft(session: Session) -> bytes:
        issued.check_format(kind, fmt)
        return reports.render(
            issued.working_copy(session, OPERATOR_ACTOR, kind, subject, plan_slug), fmt, words
        )

    write_file(out, reading(draft))
    echo("cli.report.draft_written", report=say(f"cli.report.kind.{kind}"), subject=subject, path=str(out))


@report.command("steering")
@click.option("--period", required=True, help="e.g. 2026-Q4")
@click.option("--format", "fmt", type=click.Choice(FORMATS["steering"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--language", "document_language", type=LANGUAGE, help=LANGUAGE_HELP)
@click.option("--issue", is_flag=True, help=ISSUE_HELP)
@click.option("--as", "username", help=AS_HELP)
def report_steering(
    period: str,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    document_language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    """The status report to the steering group for a period."""
    _report("steering", period, fmt, out, plan_slug, document_language, issue, username)


@report.command("annual")
@click.option("--year", required=True, type=click.IntRange(clock.FIRST_YEAR, clock.LAST_YEAR))
@click.option("--format", "fmt", type=click.Choice(FORMATS["annual"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--language", "document_language", type=LANGUAGE, help=LANGUAGE_HELP)
@click.option("--issue", is_flag=True, help=ISSUE_HELP)
@click.option("--as", "username", help=AS_HELP)
def report_annual(
    year: int,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    document_language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    """The annual report to the municipal board for a year."""
    _report("annual", str(year), fmt, out, plan_slug, document_language, issue, username)


@report.command("issued")
@click.option("--plan", "plan_slug", help=PLAN_HELP)
def report_issued(plan_slug: str | None) -> None:
    """List the issued reports, newest first."""
    rows = reading(lambda session: issued.list_issued(session, plans.get_plan(session, plan_slug)))
    for r in rows:
        echo(
            "cli.report.issued_row",
            id=f"{r.id:<5}",
            kind=f"{r.kind:<9}",
            subject=f"{r.subject:<8}",
            number=f"{r.number:<3}",
            at=r.issued_at.isoformat(),
            by=f"{r.issued_by:<16}",
            formats=f"{','.join(r.formats):<14}",
            seq=r.checkpoint_seq,
            sha256=r.sha256,
        )


@report.command("download")
@click.argument("report_id", type=int)
@click.option("--format", "fmt", type=click.Choice(ANY_FORMAT), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_download(report_id: int, fmt: str, out: Path) -> None:
    """Write an issued report's file, byte for byte as it was issued."""
    frozen = reading(lambda session: issued.issued_file(session, report_id, fmt))
    write_file(out, frozen.data)
    echo("cli.report.downloaded", name=frozen.name, path=str(out))


@report.command("case-number")
@click.argument("subject", type=click.Choice(case_numbers.SUBJECTS))
@click.argument("key")
@click.argument("number")
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", required=True, help="Who registers it: the process leader or an admin.")
def report_case_number(subject: str, key: str, number: str, plan_slug: str | None, username: str) -> None:
    """Register the diarienummer of a cycle's steering report (KEY: its period), a steering decision
    (its id) or an annual report (its year); an empty NUMBER clears it. The documents print it."""
    kept = in_transaction(
        lambda session: case_numbers.set_case_number(
            session, as_user(session, username), subject, key, number, plan_slug
        )
    )
    if kept.number:
        echo(
            "cli.report.case_number_set",
            subject=say(CASE_SUBJECTS[subject]),
            key=key,
            number=kept.number,
        )
    else:
        echo("cli.report.case_number_cleared", subject=say(CASE_SUBJECTS[subject]), key=key)
