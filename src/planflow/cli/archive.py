"""`planflow archive`: the archive written, and checked from its files alone."""

from __future__ import annotations

from pathlib import Path

import click

from .. import audit_keys
from ..services.outputs import archive as archives
from .base import echo, error, in_transaction, signing_key


@click.group("archive")
def archive() -> None:
    """The archive: plan, history, decisions, reports and audit trail as JSON and CSV."""


@archive.command("export")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="A folder, or a file ending in .zip."
)
def archive_export(out: Path) -> None:
    """Write the archive package (E-ARK CSIP), signed with the audit key: verifiable without the
    database, with only the public key (`planflow archive verify`)."""
    signer = signing_key()
    files = in_transaction(lambda session: archives.export_archive(session, signer))
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
    help="Check the signatures with this published key rather than the archive's own.",
)
def archive_verify(path: Path, key_file: Path | None) -> None:
    """Check an archive from its files and a public key alone: the signed manifest, the audit chain
    and its checkpoints, every table against the signed events, the issued reports. Exits
    non-zero naming the first problem."""
    try:
        key = audit_keys.read_public_key(key_file.read_bytes(), str(key_file)) if key_file else None
        archive = archives.read_archive(path)
    except (ValueError, OSError) as exc:
        raise error("cli.archive.unreadable", path=str(path), reason=str(exc)) from None
    with archive:
        result = archives.verify_archive(archive, key)
    if not result.intact:
        raise error("cli.archive.broken", path=str(path), problem=result.problem)
    echo(
        "cli.archive.intact",
        events=result.events,
        checkpoints=result.checkpoints,
        seq=result.anchored_seq,
        reports=result.reports,
    )
