"""What the rules share: a Problem, the Memo kept between checks, and reads in bounded batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from ....models import AuditEvent
from .. import audit

# Any select, whatever its row (SQLAlchemy's Select is generic over the row's columns).
Rows = Select[*tuple[Any, ...]]
BATCH = 500  # rows per query
LOAD_BATCH = 50  # stored states deserialized at a time (each may be tens of kB)


@dataclass(frozen=True)
class Problem:
    """One rule that does not hold: which (`rule`), about what (`subject`), and how."""

    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject}: {self.detail}"


@dataclass
class Memo:
    """What earlier checks of the same database found, so that the next reads only what changed:
    the chain as verified through (seq, hash), and for each instance version the tasks and timers
    its state holds (a state changes only with its version). Never give one database's memo to
    a check of another."""

    chain: tuple[int, str] = (0, audit.GENESIS)
    runs: dict[int, tuple[int, frozenset[str], frozenset[str]]] = field(default_factory=dict)


def batches(session: Session, query: Rows, key: Any) -> Iterator[list[Any]]:
    """The rows of `query` in batches of BATCH, walking `key` (a unique column it selects first)."""
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = session.execute(page.order_by(key).limit(BATCH)).all()
        if rows:
            yield list(rows)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def event_counts(session: Session, action: str, subject_type: str, subjects: list[int]) -> Counter[int]:
    """How many `action` events there are about each of `subjects` (ids of `subject_type`)."""
    rows = session.execute(
        select(AuditEvent.subject_id, func.count())
        .where(
            AuditEvent.action == action,
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id.in_([str(s) for s in subjects]),
        )
        .group_by(AuditEvent.subject_id)
    ).all()
    return Counter({int(subject): count for subject, count in rows})


def instances_per(session: Session, key: Any, kind: Any, ids: list[int]) -> Counter[int]:
    """How many process instances of a `kind` each of `ids` has, keyed by the column `key`."""
    rows = session.execute(select(key, func.count()).where(kind, key.in_(ids)).group_by(key)).all()
    return Counter({subject: count for subject, count in rows})


def event_total(session: Session, action: str) -> int:
    """How many `action` events there are in all."""
    return (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0
    )


def sample(query: Rows, session: Session, limit: int = 10) -> list[Any]:
    """The first few rows of `query`: a rule that finds rows out of line names some, not all."""
    return list(session.execute(query.limit(limit)).all())


def grouped(session: Session, query: Rows, key: Any, ids: list[int]) -> dict[int, frozenset[str]]:
    """The second column of `query`'s rows, grouped by the first, for the `key` values `ids`."""
    found: dict[int, set[str]] = {}
    for owner, item in session.execute(query.where(key.in_(ids))):
        found.setdefault(owner, set()).add(item)
    return {owner: frozenset(items) for owner, items in found.items()}
