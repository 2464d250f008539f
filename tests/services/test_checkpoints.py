"""Signed checkpoints: what an administrator with write access to the database can no longer hide."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select

from planflow import clock
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.models import AuditCheckpoint, AuditEvent, AuditHead
from planflow.services.errors import Conflict
from planflow.services.records import audit, checkpoints
from planflow.services.records.audit import SYSTEM_ACTOR


@pytest.fixture
def signer() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def _append(db: Database, count: int) -> None:
    with db.transaction() as session:
        for _ in range(count):
            audit.record(session, SYSTEM_ACTOR, "test.event", "test", 1, {"status": "green"})


def _checkpoint(db: Database, signer: SigningKey) -> AuditCheckpoint:
    with db.transaction() as session:
        return checkpoints.make_checkpoint(session, signer)


def _verify(db: Database, signer: SigningKey) -> audit.Verification:
    with db.reading() as session:
        return checkpoints.verify(session, signer.public_key)


def _rewrite_from(db: Database, seq: int) -> None:
    """What a careful administrator does: edit one event, then recompute every later link and the
    head, so that the chain on its own still verifies."""
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq))
        previous = None
        for event in events:
            if event.seq == seq:
                event.data = {"status": "red"}
            else:
                event.prev_hash = previous
            event.hash = audit.event_hash(event)
            previous = event.hash
        head = session.get(AuditHead, 1)
        assert head is not None and previous is not None
        head.hash = previous


def test_checkpoint_is_made_once_per_head_state(db: Database, signer: SigningKey) -> None:
    _append(db, 3)
    first = _checkpoint(db, signer)
    assert (first.seq, first.key_id) == (3, signer.public_key.key_id)
    assert _checkpoint(db, signer).made_at == first.made_at  # the head did not move: the same one
    _append(db, 2)
    assert _checkpoint(db, signer).seq == 5
    with db.reading() as session:
        assert [c["seq"] for c in checkpoints.list_checkpoints(session)] == [3, 5]


def test_empty_chain_has_nothing_to_anchor(db: Database, signer: SigningKey) -> None:
    with pytest.raises(checkpoints.NothingToAnchor), db.transaction() as session:
        checkpoints.make_checkpoint(session, signer)


def test_verify_says_how_far_back_the_chain_is_anchored(db: Database, signer: SigningKey) -> None:
    _append(db, 2)
    assert _verify(db, signer).checkpoints == 0
    clock.set_now(datetime(2026, 12, 1, 2, 30, tzinfo=UTC))
    _checkpoint(db, signer)
    _append(db, 2)
    clock.set_now(datetime(2026, 12, 2, 2, 30, tzinfo=UTC))
    _checkpoint(db, signer)
    _append(db, 3)
    result = _verify(db, signer)
    assert result.intact
    assert (result.checked, result.checkpoints, result.anchored_seq) == (7, 2, 4)
    assert result.anchored_at == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


def test_rewritten_event_with_recomputed_chain_is_caught_by_a_checkpoint(
    db: Database, signer: SigningKey
) -> None:
    _append(db, 2)
    _checkpoint(db, signer)
    _append(db, 3)
    _checkpoint(db, signer)
    _append(db, 1)
    _rewrite_from(db, 3)
    with db.reading() as session:
        assert audit.verify(session).intact  # the chain alone cannot tell
    result = _verify(db, signer)
    assert (result.intact, result.first_bad) == (False, 5)
    assert result.problem == (
        f"event 5 does not match the checkpoint of {_made_at(db, 5)}: events 3 to 5 were rewritten"
    )


def test_truncated_tail_with_head_deleted_is_caught(db: Database, signer: SigningKey) -> None:
    _append(db, 5)
    _checkpoint(db, signer)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 3))
        session.execute(delete(AuditHead))
    result = _verify(db, signer)
    assert (result.intact, result.first_bad) == (False, 4)
    assert "event 5 is gone, yet the checkpoint" in (result.problem or "")
    assert "events after 3 were cut off" in (result.problem or "")


def test_truncated_tail_with_head_moved_back_is_caught_only_by_the_checkpoint(
    db: Database, signer: SigningKey
) -> None:
    _append(db, 5)
    _checkpoint(db, signer)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 3))
        head, third = session.get(AuditHead, 1), session.get(AuditEvent, 3)
        assert head is not None and third is not None
        head.seq, head.hash = 3, third.hash
    with db.reading() as session:
        assert audit.verify(session).intact
    assert (_verify(db, signer).intact, _verify(db, signer).first_bad) == (False, 4)


def test_forged_checkpoint_signature_is_caught(db: Database, signer: SigningKey) -> None:
    _append(db, 4)
    _checkpoint(db, signer)
    _rewrite_from(db, 2)
    with db.transaction() as session:  # make the checkpoint agree with the rewrite: no key to sign it
        checkpoint, head = session.get(AuditCheckpoint, 4), session.get(AuditHead, 1)
        assert checkpoint is not None and head is not None
        checkpoint.hash = head.hash
    result = _verify(db, signer)
    assert (result.intact, result.first_bad) == (False, 4)
    assert result.problem is not None and "has no valid signature" in result.problem


def test_checkpoint_signed_with_another_key_is_caught(db: Database, signer: SigningKey) -> None:
    _append(db, 2)
    _rewrite_from(db, 1)
    impostor = SigningKey(Ed25519PrivateKey.generate())
    _checkpoint(db, impostor)
    result = _verify(db, signer)
    assert (result.intact, result.first_bad) == (False, 2)
    assert f"signed by key {impostor.public_key.key_id[:16]}" in (result.problem or "")


def test_a_rewritten_chain_is_not_signed(db: Database, signer: SigningKey) -> None:
    _append(db, 3)
    _checkpoint(db, signer)
    _append(db, 2)
    with db.transaction() as session:  # a new event changed after it was written
        event = session.get(AuditEvent, 5)
        assert event is not None
        event.data = {"status": "red"}
    with pytest.raises(
        Conflict, match="Not signing: the audit chain is broken at event 5: event 5 was changed"
    ):
        _checkpoint(db, signer)
    _rewrite_from(db, 2)  # signed events rewritten, every later link recomputed
    with pytest.raises(
        Conflict, match="Not signing: the audit chain is broken at event 3: event 3 does not match"
    ):
        _checkpoint(db, signer)
    with db.reading() as session:
        assert [c["seq"] for c in checkpoints.list_checkpoints(session)] == [3]


def test_two_checkpoints_at_once_make_one(db: Database, signer: SigningKey) -> None:
    _append(db, 3)
    barrier = threading.Barrier(2)
    made: list[int] = []
    errors: list[BaseException] = []

    def make() -> None:
        barrier.wait()
        try:
            made.append(_checkpoint(db, signer).seq)
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and made == [3, 3]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def _made_at(db: Database, seq: int) -> str:
    with db.reading() as session:
        checkpoint = session.get(AuditCheckpoint, seq)
        assert checkpoint is not None
        return checkpoint.made_at.isoformat()
