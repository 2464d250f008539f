"""`planflow archive`: the archive written, and checked from its files alone."""

from __future__ import annotations

import zipfile
from pathlib import Path

import click

from .. import audit_keys
from ..services.outputs import archive as archives
from .base import echo, error, reading, signing_key


@click.group("archive")
def archive() -> None:
    """The archive: plan, history, decisions, reports and audit trail as JSON and CSV."""


@archive.command("export")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="A folder, or a file ending in .zip."
)
def archive_export(out: Path) -> None:
    """Write the archive (verifiable without the database: `planflow archive verify`)."""
    public_key = signing_key().public_key
    files = reading(lambda session: archives.export_archive(session, public_key))
    if out.suffix.lower() != ".zip" and out.exists() and any(out.iterdir()):
        raise error("cli.archive.not_empty", path=str(out))
    try:
        archives.write_archive(files, out)
    except OSError as exc:
        raise error("cli.write_failed", path=str(out), reason=exc.strerror or type(exc).__name__) from None
    echo("cli.archive.written", path=str(out), count=len(files))


@archive.command("verify")
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
        files = archives.read_archive(path)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise error("cli.archive.unreadable", path=str(path), reason=str(exc)) from None
    result = archives.verify_archive(files, key)
    if not result.intact:
        raise error("cli.archive.broken", path=str(path), problem=result.problem)
    echo(
        "cli.archive.intact",
        events=result.events,
        checkpoints=result.checkpoints,
        seq=result.anchored_seq,
        reports=result.reports,
    )
