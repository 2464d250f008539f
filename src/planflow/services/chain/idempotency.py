"""Completing a task once per idempotency key: a client's retry of a request whose response was
lost answers what the first completion answered (complete_once), and the keys are forgotten after
a while (forget_idempotency_keys, a scheduled job)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Message
from ...models import IdempotencyKey, User
from ..errors import Conflict, InvalidInput
from .tasks import complete_task


def complete_once(session: Session, user: User, task_id: str, data: Any, key: str | None) -> dict[str, Any]:
    """Complete a task; with an idempotency key, a retry of the same request by the same user (a
    lost response) answers what the first completion answered, instead of "already done". The
    key is stored in the same transaction as the completion."""
    if key is None:
        return complete_task(session, user, task_id, data)
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidInput("error.input.invalid", fields={"Idempotency-Key": Message("form.idempotency_key")})
    fingerprint = hashlib.sha256(
        json.dumps([task_id, data], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    first = _remembered(session, user, key, fingerprint)
    if first is not None:
        return first
    try:
        result = complete_task(session, user, task_id, data)
    except Conflict:
        # The first attempt may have committed while this one waited for the task's lock.
        first = _remembered(session, user, key, fingerprint)
        if first is not None:
            return first
        raise
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    user_id=user.id,
                    key=key,
                    request_hash=fingerprint,
                    response=result,
                    created_at=clock.now(),
                )
            )
    except IntegrityError:  # the same key, used at once for another task: that one came first
        raise Conflict("error.task.idempotency_race") from None
    return result


def _remembered(session: Session, user: User, key: str, fingerprint: str) -> dict[str, Any] | None:
    stored = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if stored is None:
        return None
    if stored.request_hash != fingerprint:
        raise InvalidInput(
            "error.task.idempotency_reused", fields={"Idempotency-Key": Message("form.idempotency_key_used")}
        )
    return dict(stored.response)


def forget_idempotency_keys(
    transaction: Callable[[], AbstractContextManager[Session]], before: datetime, batch: int = 1000
) -> int:
    """Delete the idempotency keys made before `before`, `batch` at a time, each batch its own
    short transaction (a retry is a client's answer to a lost response, minutes later, never a
    week). Returns how many were deleted."""
    deleted = 0
    while True:
        with transaction() as session:
            ids = session.scalars(
                select(IdempotencyKey.id).where(IdempotencyKey.created_at < before).limit(batch)
            ).all()
            if ids:
                session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
