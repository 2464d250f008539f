"""Signed checkpoints of the audit chain: the head (seq, hash, time) signed with a key kept outside
the database, kept in `audit_checkpoint` and published. A database administrator can rewrite
events and recompute every later hash and the head, but cannot sign the result: verification
against the checkpoints catches it, and catches a cut-off tail too.

The services take the key as a parameter; the entry points load it (planflow.audit_keys), and
`integrity` is the one answer to "is the trail intact" that the command line, the audit page and
the API give.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...audit_keys import PublicKey, SigningKey
from ...models import AuditCheckpoint, AuditEvent, AuditHead, User
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, ServiceError
from . import audit
from .audit import Actor, Verification

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
    return _against_checkpoints(session, audit.verify(session), public_key)


def _against_checkpoints(session: Session, chain: Verification, public_key: PublicKey) -> Verification:
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


class Verdict(enum.StrEnum):
    ANCHORED = "anchored"  # the chain holds and so does every signed checkpoint, checked with the key
    UNANCHORED = "unanchored"  # the chain holds; no signed checkpoint exists to check it against
    UNCHECKED = "unchecked"  # the chain holds, but its checkpoints could not be checked: no key
    BROKEN = "broken"  # the chain or a checkpoint names a bad event


@dataclass(frozen=True)
class Integrity:
    """Whether the audit trail is shown intact, and how far that goes. `intact` only when nothing
    that could be checked was left unchecked: the chain alone cannot show events rewritten with
    every later hash recomputed, nor a tail cut off with the head row moved back."""

    intact: bool  # ANCHORED or UNANCHORED
    verdict: Verdict
    events: int  # events walked in order before the first fault (all of them when none)
    first_bad: int | None  # the first event that does not hold (BROKEN)
    problem: str | None  # what is wrong (BROKEN) or what was not checked (UNCHECKED)
    chain_intact: bool  # the hash chain and its head row on their own
    key_available: bool  # whether this installation's public key was at hand
    key_id: str | None  # its fingerprint
    checkpoints: int  # signed checkpoints kept
    checkpoints_verified: int  # of them, checked with the key and holding (all when ANCHORED)
    anchored_seq: int  # the last verified checkpoint's event (0: none)
    anchored_at: datetime | None  # when that checkpoint was signed
    unanchored: int  # events after it, which only the chain vouches for


def integrity(session: Session, asking: User | Actor, public_key: PublicKey | None) -> Integrity:
    """Is the audit trail intact: the chain walked and every signed checkpoint checked with
    `public_key` (audit_keys.verifying_key: the command line, the audit page and the API pass the
    same one), for someone who may read internal records. Without the key the checkpoints cannot
    be checked, and the answer says so instead of calling the trail intact."""
    access.require(session, Actor(asking) if isinstance(asking, User) else asking, UseCase.READ_INTERNAL)
    chain = audit.verify(session)
    result = chain if public_key is None else _against_checkpoints(session, chain, public_key)
    kept = session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
    problem = result.problem
    if not result.intact:
        verdict = Verdict.BROKEN
    elif kept == 0:
        verdict = Verdict.UNANCHORED
    elif public_key is None:
        verdict = Verdict.UNCHECKED
        problem = (
            f"{kept} signed checkpoint(s) not checked: this installation's public key is not at hand "
            "(AUDIT_SIGNING_KEY), and the chain alone shows neither events rewritten with every later "
            "hash recomputed nor a cut-off tail"
        )
    else:
        verdict = Verdict.ANCHORED
    return Integrity(
        intact=verdict in (Verdict.ANCHORED, Verdict.UNANCHORED),
        verdict=verdict,
        events=result.checked,
        first_bad=result.first_bad,
        problem=problem,
        chain_intact=chain.intact,
        key_available=public_key is not None,
        key_id=public_key.key_id if public_key is not None else None,
        checkpoints=kept,
        checkpoints_verified=result.checkpoints,
        anchored_seq=result.anchored_seq,
        anchored_at=result.anchored_at,
        unanchored=result.checked - result.anchored_seq if result.intact else 0,
    )


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
