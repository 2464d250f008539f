"""The audit trail: append one event per decision or state change, in the same transaction as
the change; verify that the chain of hashes is intact."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..models import AuditEvent, AuditHead, User

GENESIS = "0" * 64
SYSTEM = "system"  # timers and the schedule
OPERATOR = "operator"  # a person at the server's command line, administering without an account


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, possibly on behalf of someone (a substitute), or, with no user, the
    system or the local operator (`label`)."""

    user: User | None
    on_behalf_of: User | None = None
    role: str | None = None
    label: str = SYSTEM

    @property
    def name(self) -> str:
        return self.user.username if self.user else self.label

    @property
    def is_operator(self) -> bool:
        return self.user is None and self.label == OPERATOR

    @property
    def is_system(self) -> bool:
        return self.user is None and self.label == SYSTEM

    @property
    def principal(self) -> User | None:
        """The person whose responsibility the act is."""
        return self.on_behalf_of or self.user


SYSTEM_ACTOR = Actor(None)
OPERATOR_ACTOR = Actor(None, role="admin", label=OPERATOR)


def _plain(data: dict[str, Any] | None) -> dict[str, Any]:
    """The data as it will read back from a JSON column (dates as text), so hashes agree."""
    result: dict[str, Any] = json.loads(json.dumps(data or {}, default=str, ensure_ascii=False))
    return result


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """An event as plain data: every field its hash covers (the archive writes these too)."""
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "on_behalf_of": event.on_behalf_of,
        "role": event.role,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    canonical = json.dumps(event_fields(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Locks the chain's head row, so concurrent appends queue
    up instead of forking the chain."""
    head = session.get(AuditHead, 1, with_for_update=True)
    if head is None:
        raise RuntimeError("the audit chain has no head row: run `planflow init` to migrate")
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=clock.now(),
        actor=actor.name,
        on_behalf_of=actor.on_behalf_of.username if actor.on_behalf_of else None,
        role=actor.role,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=_plain(data),
        reason=reason,
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    checked: int
    first_bad: int | None = None  # the seq of the first event that does not hold
    problem: str | None = None
    # Filled in when the chain was also checked against signed checkpoints (services.checkpoints).
    checkpoints: int = 0
    anchored_seq: int = 0  # events up to this one are covered by a signed checkpoint
    anchored_at: datetime | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session, after: int = 0, after_hash: str = GENESIS) -> Verification:
    """Walk the chain in order and recompute every link, then check that the head row agrees.
    With `after`, walk only the events after that one, which must follow `after_hash`."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.seq > after)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=1000)
    )
    try:
        return _walk(session, events, after + 1, after_hash)
    finally:
        events.close()  # a broken chain stops the walk early: release the server-side cursor


def _walk(session: Session, events: Iterable[AuditEvent], expected_seq: int, previous: str) -> Verification:
    for event in events:
        if event.seq != expected_seq:
            return Verification(
                expected_seq - 1, expected_seq, f"event {expected_seq} is missing (next is {event.seq})"
            )
        if event.prev_hash != previous:
            return Verification(
                expected_seq - 1, event.seq, f"event {event.seq} does not follow event {event.seq - 1}"
            )
        if event_hash(event) != event.hash:
            return Verification(
                expected_seq - 1, event.seq, f"event {event.seq} was changed after it was written"
            )
        previous, expected_seq = event.hash, expected_seq + 1
    checked = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        # The migration makes the row and nothing deletes it: without it a cut-off tail would pass.
        return Verification(
            checked, checked + 1, f"the chain's head row is missing: events after {checked} may be cut off"
        )
    if (head.seq, head.hash) != (checked, previous):
        return Verification(
            checked, checked + 1, f"events after {checked} are missing (the chain ends at {head.seq})"
        )
    return Verification(checked)


def events(
    session: Session,
    subject_type: str | None = None,
    subject_id: object | None = None,
    action: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """The newest events first, optionally about one subject or of one action."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == str(subject_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))
