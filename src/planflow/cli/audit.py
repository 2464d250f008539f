"""`planflow audit`: the audit trail's hash chain, its signed checkpoints, and the records it vouches for."""

from __future__ import annotations

from pathlib import Path

import click

from ..services.records import checkpoints, trail_check
from ..services.records.audit import OPERATOR_ACTOR
from .base import (
    echo,
    error,
    in_transaction,
    print_json,
    public_key_file,
    reading,
    say,
    signing_key,
    verifying_key,
)


@click.group("audit")
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option(
    "--public-key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify the checkpoints with this published public key (default: this installation's key).",
)
def audit_verify(key_file: Path | None) -> None:
    """Check the hash chain, its signed checkpoints, and that the records hold what their events
    say; exits non-zero naming the first bad event, when checkpoints exist that no key is at hand
    to check, or naming each record and field that differs from its events."""
    public_key = public_key_file(key_file) or verifying_key()
    answer = reading(lambda session: trail_check.check(session, OPERATOR_ACTOR, public_key))
    result = answer.trail
    if result.verdict is checkpoints.Verdict.BROKEN:
        raise error("cli.audit.broken", seq=result.first_bad, problem=result.problem)
    if result.verdict is checkpoints.Verdict.UNCHECKED:
        raise error("cli.audit.unchecked", events=result.events, count=result.checkpoints)
    for record in answer.differing:
        click.echo(f"  {record.subject}: {record.detail}", err=True)
    if not answer.records_agree:
        raise error("cli.audit.records_disagree", count=answer.records_differing, shown=len(answer.differing))
    _say_intact(result)
    echo("cli.audit.records_agree")


def _say_intact(result: checkpoints.Integrity) -> None:
    if result.anchored_at is None:
        echo("cli.audit.intact_unanchored", checked=result.events)
        return
    echo(
        "cli.audit.intact_partly_anchored" if result.unanchored else "cli.audit.intact_anchored",
        checked=result.events,
        checkpoints=result.checkpoints_verified,
        seq=result.anchored_seq,
        at=result.anchored_at.isoformat(),
        later=result.unanchored,
    )


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now and keep the checkpoint (the same one if the head has not moved)."""
    signer = signing_key()
    made = in_transaction(lambda session: checkpoints.as_dict(checkpoints.make_checkpoint(session, signer)))
    echo("cli.audit.checkpoint", seq=made["seq"], at=made["made_at"])
    labels = {name: say(f"cli.audit.label.{name}") for name in ("hash", "key", "signature")}
    width = max(map(len, labels.values()))
    for name, field in (("hash", "hash"), ("key", "key_id"), ("signature", "signature")):
        click.echo(f"  {labels[name]:<{width}}  {made[field]}")


@audit.command("checkpoints")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_checkpoints(as_json: bool) -> None:
    """List the signed checkpoints, oldest first."""
    rows = reading(checkpoints.list_checkpoints)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        echo(
            "cli.audit.checkpoint_row",
            seq=f"{row['seq']:<8}",
            at=row["made_at"],
            hash=row["hash"],
            key=row["key_id"][:16],
        )


@audit.command("public-key")
def audit_public_key() -> None:
    """Print the PEM public key that verifies the checkpoints (publish it outside planflow)."""
    click.echo(signing_key().public_key.pem(), nl=False)
