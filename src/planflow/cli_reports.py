"""The `planflow report`, `planflow plan import` and `planflow archive` commands: the documents
that leave planflow. Thin, like the rest of the CLI: parse, one transaction, one service, one line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import click
from sqlalchemy.orm import Session

from . import audit_keys, clock, reports
from .cli import _app, _as, _in_transaction, _reading, _signing_key, main, plan
from .i18n import LANGUAGES
from .services import archive, excel, issued, plans
from .services.audit import OPERATOR_ACTOR

LANGUAGE = click.Choice(LANGUAGES)


def _language(language: str | None) -> str:
    return language or str(_app().config["DEFAULT_LANGUAGE"])


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None


@main.group()
def report() -> None:
    """The steering group's status report and the annual report to the board."""


def _report(
    kind: str,
    subject: str,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    language = _language(language)
    if issue:
        if not username:
            raise click.UsageError("--issue needs --as USER: the process leader (or an admin) issues")
        signer = _signing_key()

        def freeze(session: Session) -> tuple[int, int, str, int, str]:
            row = issued.issue_report(
                session,
                _as(session, username),
                signer,
                kind,
                subject,
                plan_slug,
                language,
                render=reports.render,
            )
            return row.id, row.number, row.sha256, row.checkpoint_seq, row.checkpoint_hash

        report_id, number, sha256, seq, head = _in_transaction(freeze)
        frozen = _reading(lambda session: issued.issued_file(session, report_id, fmt))
        _write(out, frozen.data)
        click.echo(f"Issued {kind} report {subject} no. {number} (id {report_id}), written to {out}.")
        click.echo(f"  content SHA-256  {sha256}")
        click.echo(f"  checkpoint       event {seq}, {head}")
        return

    def draft(session: Session) -> bytes:
        issued.check_format(kind, fmt)
        content = issued.content_of(session, plans.get_plan(session, plan_slug), kind, subject)
        return reports.render(content, fmt, language)

    _write(out, _reading(draft))
    click.echo(f"Working copy of the {kind} report {subject} written to {out} (not issued).")


@report.command("steering")
@click.option("--period", required=True, help="e.g. 2026-Q4")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--language", type=LANGUAGE, help="The document's language (default: the configured one).")
@click.option(
    "--issue", is_flag=True, help="Issue it: freeze it, audited and anchored by a signed checkpoint."
)
@click.option("--as", "username", help="Who issues it: the process leader or an admin.")
def report_steering(
    period: str,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    """The status report to the steering group for a period."""
    _report("steering", period, fmt, out, plan_slug, language, issue, username)


@report.command("annual")
@click.option("--year", required=True, type=click.IntRange(clock.FIRST_YEAR, clock.LAST_YEAR))
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "html"]), default="pdf", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--language", type=LANGUAGE, help="The document's language (default: the configured one).")
@click.option(
    "--issue", is_flag=True, help="Issue it: freeze it, audited and anchored by a signed checkpoint."
)
@click.option("--as", "username", help="Who issues it: the process leader or an admin.")
def report_annual(
    year: int,
    fmt: str,
    out: Path,
    plan_slug: str | None,
    language: str | None,
    issue: bool,
    username: str | None,
) -> None:
    """The annual report to the municipal board for a year."""
    _report("annual", str(year), fmt, out, plan_slug, language, issue, username)


@report.command("issued")
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
def report_issued(plan_slug: str | None) -> None:
    """List the issued reports, newest first."""
    rows = _reading(lambda session: issued.list_issued(session, plans.get_plan(session, plan_slug)))
    for r in rows:
        click.echo(
            f"{r.id:<5} {r.kind:<9} {r.subject:<8} no. {r.number:<3} {r.issued_at.isoformat()}"
            f"  {r.issued_by:<16} {','.join(r.formats):<14} checkpoint {r.checkpoint_seq}  {r.sha256}"
        )


@report.command("download")
@click.argument("report_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "docx"]), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_download(report_id: int, fmt: str, out: Path) -> None:
    """Write an issued report's file, byte for byte as it was issued."""
    frozen = _reading(lambda session: issued.issued_file(session, report_id, fmt))
    _write(out, frozen.data)
    click.echo(f"{frozen.name} written to {out}.")


@plan.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--as", "username", help="Who imports (default: the local operator).")
def plan_import(file: Path, plan_slug: str | None, username: str | None) -> None:
    """Apply an edited Excel export: titles, owners, offices and dates. Every row is checked first;
    if any is wrong nothing changes and each error is listed with sheet, row and column."""
    data = file.read_bytes()
    result = _in_transaction(
        lambda session: excel.import_xlsx(
            session, _as(session, username) if username else OPERATOR_ACTOR, data, file.name, plan_slug
        )
    )
    changed = ", ".join(result.changed) or "none"
    click.echo(
        f"{file.name}: {result.rows} row(s) read; {len(result.changed)} activity(ies) changed: {changed}."
    )


def export_xlsx(out: Path | None, plan_slug: str | None) -> None:
    """`plan export --format xlsx` (cli.plan_export calls this)."""
    if out is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    data = _reading(lambda session: excel.export_xlsx(session, plan_slug, _language(None)))
    _write(out, data)
    click.echo(f"Plan written to {out}.")


@main.group("archive")
def archive_group() -> None:
    """The archive: plan, history, decisions, reports and audit trail as JSON and CSV."""


@archive_group.command("export")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="A folder, or a file ending in .zip."
)
def archive_export(out: Path) -> None:
    """Write the archive (verifiable without the database: `planflow archive verify`)."""
    public_key = _signing_key().public_key
    files = _reading(lambda session: archive.export_archive(session, public_key))
    if out.suffix.lower() != ".zip" and out.exists() and any(out.iterdir()):
        raise click.ClickException(f"{out} is not empty: give a new folder or a .zip file")
    try:
        archive.write_archive(files, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    click.echo(f"Archive written to {out}: {len(files)} files.")


@archive_group.command("verify")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--public-key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check the checkpoints with this published key rather than the archive's own.",
)
def archive_verify(path: Path, key_file: Path | None) -> None:
    """Check an archive from its files alone: the manifest, the audit chain, the signed checkpoints
    and the issued reports. Exits non-zero naming the first problem."""
    try:
        key = audit_keys.read_public_key(key_file.read_bytes(), str(key_file)) if key_file else None
        files = archive.read_archive(path)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    result = archive.verify_archive(files, key)
    if not result.intact:
        raise click.ClickException(f"archive {path} does not verify: {result.problem}")
    click.echo(
        f"Archive intact: {result.events} audit event(s), {result.checkpoints} signed checkpoint(s)"
        f" anchoring up to event {result.anchored_seq}, {result.reports} issued report(s)."
    )
