"""The audit trail: append one event per decision or state change, in the same transaction as
the change; verify that the chain of hashes is intact."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, Text, cast, select, type_coerce
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from ... import clock
from ...models import AuditEvent, AuditHead, User
from ...models.base import canonical_json

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
    return fields_hash(event_fields(event))


_text = json.encoder.encode_basestring  # a JSON string, non-ASCII kept: what json.dumps writes


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _text(value)


def canonical(fields: dict[str, Any], data_json: str | None = None) -> str:
    """An event's fields as canonical JSON: exactly `canonical_json(fields)` (a test holds them
    equal), written out by hand because verification hashes a million events and the generic
    encoder took most of its time. `data_json`, when given, is the data as canonical JSON already."""
    return "".join(
        (
            '{"action":', _text(fields["action"]),
            ',"actor":', _text(fields["actor"]),
            ',"data":', canonical_json(fields["data"]) if data_json is None else data_json,
            ',"occurred_at":', _text(fields["occurred_at"]),
            ',"on_behalf_of":', _text_or_null(fields["on_behalf_of"]),
            ',"prev_hash":', _text(fields["prev_hash"]),
            ',"reason":', _text_or_null(fields["reason"]),
            ',"role":', _text_or_null(fields["role"]),
            ',"seq":', str(int(fields["seq"])),
            ',"subject_id":', _text(fields["subject_id"]),
            ',"subject_type":', _text(fields["subject_type"]),
            "}",
        )
    )  # fmt: skip


def content_sha256(value: Any) -> str:
    """The SHA-256 of a JSON value as canonical JSON: how an event records content it does not
    carry whole (an annual report's compiled snapshot), so that the record can be checked by it."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def fields_hash(fields: dict[str, Any], data_json: str | None = None) -> str:
    """The SHA-256 an event with these fields carries (event_hash, which the archive uses, too)."""
    return hashlib.sha256(canonical(fields, data_json).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Record one event in the session's transaction. It joins the chain (gets its seq and
    hashes) when the transaction commits (chain_pending), so a transaction holds the chain's
    head only from its last change to its commit, not from its first event on: every write
    shares that row, and holding it across a whole use case made every writer wait."""
    event = AuditEvent(
        actor=actor.name,
        on_behalf_of=actor.on_behalf_of.username if actor.on_behalf_of else None,
        role=actor.role,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=_plain(data),
        reason=reason,
    )
    session.info.setdefault(_PENDING, []).append((event, session.get_nested_transaction()))
    return event


_PENDING = "planflow.audit.pending"  # session.info: events recorded, not yet chained


def chain_pending(session: Session) -> int:
    """Give the session's recorded events their places in the chain: lock the head, number and
    hash each after it, move the head. Runs before every commit (the listener below); anything
    that reads the chain inside a transaction calls it first. Returns how many it chained.

    The lock order is the house's (README, "Concurrency"): every other row a transaction locks
    comes first, the head last, so it is held only from here to the commit."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return 0
    session.flush()  # the transaction's own changes first: the head's lock lasts only for the events
    head = session.get(AuditHead, 1, with_for_update=True, populate_existing=True)
    if head is None:
        raise RuntimeError("the audit chain has no head row: run `planflow init` to migrate")
    now = clock.now()  # when the transaction's decisions take effect: times never go back along the chain
    for event, _ in pending:
        event.seq, event.occurred_at, event.prev_hash = head.seq + 1, now, head.hash
        event.hash = event_hash(event)
        head.seq, head.hash = event.seq, event.hash
        session.add(event)
    session.flush()
    return len(pending)


@orm_event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release commits nothing yet
        chain_pending(session)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction's events never happened; a savepoint's rollback takes back only
    the events recorded inside it."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not previous.nested:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [(e, t) for e, t in pending if not _inside(t, previous)]


def _inside(transaction: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


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


# The columns verification reads, in event_fields' names, then the stored hash. Read as the
# driver gives them (no ORM objects, no type processing), the data as its stored text: a
# million events in seconds.
_VERIFIED = (
    AuditEvent.seq,
    type_coerce(AuditEvent.occurred_at, String).label("occurred_at"),
    AuditEvent.actor,
    AuditEvent.on_behalf_of,
    AuditEvent.role,
    AuditEvent.action,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    cast(AuditEvent.data, Text).label("data"),
    AuditEvent.reason,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def verify(session: Session, after: int = 0, after_hash: str = GENESIS) -> Verification:
    """Walk the chain in order and recompute every link, then check that the head row agrees.
    With `after`, walk only the events after that one, which must follow `after_hash`."""
    chain_pending(session)
    # yield_per on the statement, not the connection: on the connection it would stay, and every
    # later statement of the transaction would run as a server-side cursor too.
    query = select(*_VERIFIED).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
    rows = session.connection().execute(query.execution_options(yield_per=5000))
    try:
        return _walk(session, rows, after + 1, after_hash)
    finally:
        rows.close()  # a broken chain stops the walk early: release the server-side cursor


def _stored_hash_holds(fields: dict[str, Any], stored_data: str, stored_hash: str) -> bool:
    """Whether a stored event still has the hash it was written with. Its data is hashed as
    stored when that is canonical (as planflow stores it), else as parsed (rows written before
    JSON was stored canonically, or rewritten by hand to the same content)."""
    if fields_hash(fields, stored_data) == stored_hash:
        return True
    fields["data"] = json.loads(stored_data)
    return fields_hash(fields) == stored_hash


def _walk(session: Session, rows: Iterable[Any], expected_seq: int, previous: str) -> Verification:
    for (
        seq,
        at,
        actor,
        on_behalf_of,
        role,
        action,
        subject_type,
        subject_id,
        data,
        reason,
        prev,
        stored,
    ) in rows:
        if seq != expected_seq:
            return Verification(
                expected_seq - 1, expected_seq, f"event {expected_seq} is missing (next is {seq})"
            )
        if prev != previous:
            return Verification(expected_seq - 1, seq, f"event {seq} does not follow event {seq - 1}")
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)  # SQLite gives text
        fields = {
            "seq": seq,
            "occurred_at": (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat(),
            "actor": actor,
            "on_behalf_of": on_behalf_of,
            "role": role,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "reason": reason,
            "prev_hash": prev,
        }
        if not _stored_hash_holds(fields, data, stored):
            return Verification(expected_seq - 1, seq, f"event {seq} was changed after it was written")
        previous, expected_seq = stored, expected_seq + 1
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
    chain_pending(session)
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == str(subject_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))
