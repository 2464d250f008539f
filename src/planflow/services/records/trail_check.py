"""`audit verify`'s one answer, which the command line, the audit page and the API all give: is the
trail intact (checkpoints.integrity: the hash chain and its signed checkpoints), and do the records
hold what their events say (consistency.derived), naming the first records that do not."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ...audit_keys import PublicKey
from ...models import User
from . import checkpoints
from .audit import Actor
from .consistency import derived

NAMED = 50  # records named before the count: an edit of many rows is seen from the first ones


@dataclass(frozen=True)
class DifferingRecord:
    """A record field that differs from what its audit events say: which record, and how."""

    subject: str
    detail: str


@dataclass(frozen=True)
class TrailCheck:
    """The trail's integrity, and whether the records agree with it."""

    trail: checkpoints.Integrity
    records_differing: int  # record fields that differ from their events (0: the records agree)
    differing: list[DifferingRecord]  # the first NAMED of them

    @property
    def records_agree(self) -> bool:
        return self.records_differing == 0

    @property
    def intact(self) -> bool:
        """Nothing found wrong: the trail intact and every record as its events say."""
        return self.trail.intact and self.records_agree


def check(session: Session, asking: User | Actor, public_key: PublicKey | None) -> TrailCheck:
    """Check the trail with `public_key` (checkpoints.integrity, which also checks who may ask) and
    every record against its events."""
    trail = checkpoints.integrity(session, asking, public_key)
    problems = derived.check(session)
    named = [DifferingRecord(p.subject, p.detail) for p in problems[:NAMED]]
    return TrailCheck(trail, len(problems), named)
