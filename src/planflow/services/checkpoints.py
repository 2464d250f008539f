"""Signed checkpoints of the audit chain: the head (seq, hash, time) signed with a key kept outside
the database, kept in `audit_checkpoint` and published. A database administrator can rewrite
events and recompute every later hash and the head, but cannot sign the result: verification
against the checkpoints catches it, and catches a cut-off tail too.

The services take the key as a parameter; the entry points load it (planflow.audit_keys).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..audit_keys import PublicKey, SigningKey
from ..models import AuditCheckpoint, AuditEvent, AuditHead
from . import audit
from .audit import Verification
from .errors import Conflict, ServiceError

PURPOSE = "planflow audit checkpoint v1"


class NothingToAnchor(ServiceError):
    """The chain has no events yet."""


def message(seq: int, hash: str, made_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers: canonical JSON, so anyone can check it with the
    published public key. The purpose string keeps the signature from meaning anything else."""
    body = {"purpose": PURPOSE, "seq": seq, "hash": hash, "made_at": made_at.isoformat()}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def make_checkpoint(session: Session, signer: SigningKey) -> AuditCheckpoint:
    """Sign the chain's head now; when the head has not moved since the last checkpoint, that one.

    Locks the head row, so appends wait and two callers at once make one checkpoint. Refuses to
    sign a chain that does not extend the last signed checkpoint: signing a rewritten chain
    would launder the rewrite."""
    audit.chain_pending(session)  # what this transaction recorded so far is signed with the rest
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise Conflict("error.audit.no_head")
    if head.seq == 0:
        raise NothingToAnchor("error.audit.empty")
    last = latest(session)
    if last is not None and (last.seq, last.hash) == (head.seq, head.hash):
        return last
    if last is not None:
        anchor = session.get(AuditEvent, last.seq)
        failure = _checkpoint_failure(last, anchor.hash if anchor else None, signer.public_key, head.seq, 0)
        if failure is not None:
            raise Conflict("error.audit.not_signing", seq=failure.first_bad, problem=failure.problem)
    since = audit.verify(session, last.seq, last.hash) if last else audit.verify(session)
    if not since.intact:
        raise Conflict("error.audit.not_signing", seq=since.first_bad, problem=since.problem)
    made_at = clock.now()
    checkpoint = AuditCheckpoint(
        seq=head.seq,
        hash=head.hash,
        made_at=made_at,
        signature=base64.b64encode(signer.sign(message(head.seq, head.hash, made_at))).decode("ascii"),
        key_id=signer.public_key.key_id,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def latest(session: Session) -> AuditCheckpoint | None:
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()


def list_checkpoints(session: Session) -> list[dict[str, Any]]:
    """Every checkpoint, oldest first, as plain data to publish."""
    return [
        as_dict(checkpoint)
        for checkpoint in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    ]


def as_dict(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "made_at": checkpoint.made_at.isoformat(),
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
    }


def verify(session: Session, public_key: PublicKey) -> Verification:
    """Check the chain (audit.verify) and every checkpoint: its signature holds with
    `public_key`, and the event it names exists and has the hash it signed. Says how far back the
    chain is anchored; on failure, names the first bad event."""
    chain = audit.verify(session)
    rows = session.execute(
        select(AuditCheckpoint, AuditEvent.hash)
        .outerjoin(AuditEvent, AuditEvent.seq == AuditCheckpoint.seq)
        .order_by(AuditCheckpoint.seq)
    ).all()
    previous_seq, count, last = 0, 0, None
    for checkpoint, event_hash in rows:
        failure = _checkpoint_failure(checkpoint, event_hash, public_key, chain.checked, previous_seq)
        if failure is not None:
            # The earlier of the two faults is the first bad event; on a tie the checkpoint's
            # account is the more telling one (it says what was lost).
            if chain.intact or (chain.first_bad or 0) >= (failure.first_bad or 0):
                return failure
            return chain
        previous_seq, count, last = checkpoint.seq, count + 1, checkpoint
    if not chain.intact or last is None:
        return chain
    return replace(chain, checkpoints=count, anchored_seq=last.seq, anchored_at=last.made_at)


def _checkpoint_failure(
    checkpoint: AuditCheckpoint,
    event_hash: str | None,
    public_key: PublicKey,
    checked: int,
    previous_seq: int,
) -> Verification | None:
    seq, made = checkpoint.seq, checkpoint.made_at.isoformat()
    problem = _signature_problem(checkpoint, public_key)
    if problem:
        return Verification(checked, seq, problem)
    if event_hash is None:
        return Verification(
            checked,
            min(seq, checked + 1),
            f"event {seq} is gone, yet the checkpoint of {made} anchors it: events after {checked} "
            "were cut off",
        )
    if event_hash != checkpoint.hash:
        return Verification(
            checked,
            seq,
            f"event {seq} does not match the checkpoint of {made}: "
            f"events {previous_seq + 1} to {seq} were rewritten",
        )
    return None


def _signature_problem(checkpoint: AuditCheckpoint, public_key: PublicKey) -> str | None:
    seq, made = checkpoint.seq, checkpoint.made_at.isoformat()
    if checkpoint.key_id != public_key.key_id:
        return (
            f"the checkpoint at event {seq} ({made}) was signed by key {checkpoint.key_id[:16]}, "
            f"not by {public_key.key_id[:16]}"
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        signature = b""
    if not public_key.verifies(message(seq, checkpoint.hash, checkpoint.made_at), signature):
        return f"the checkpoint at event {seq} ({made}) has no valid signature: it was forged or changed"
    return None
