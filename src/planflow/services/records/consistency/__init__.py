"""Whether the stored records agree with one another: the audit chain verifies; every process
instance's open tasks and pending timers are what its stored state says; every status report,
review, deviation, escalation and decision has the one audit event its handler writes with it, and
no such event lacks its record; every cycle has its own process and no cycle is left half-opened;
every record holds, field by field, what its events say (derived.py).

Every use case changes these together in one transaction, so a crash or a kill at any moment must
leave all of them true: the crash test runs `check` after every kill, and a load test or an
operator may run it on a live database. It reads only, in bounded queries (BATCH rows at a time,
by key); what it keeps between batches is counts by id.

Give it one snapshot: Database.reading() on SQLite; on PostgreSQL a REPEATABLE READ transaction
(`session.connection(execution_options={"isolation_level": "REPEATABLE READ"})` before the first
read) when others write meanwhile, or a writer's half-seen work is reported as a problem.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import derived, records, state
from .reading import Memo, Problem

__all__ = ["Memo", "Problem", "check"]


def check(session: Session, memo: Memo | None = None, opening_allowed: bool = False) -> list[Problem]:
    """Every rule that does not hold now, in the order of the rules above ([] when all hold).

    A cycle still opening is a problem unless `opening_allowed` (say so while an opener may be at
    work; a crashed opener's cycle is finished by running cycles.open_all again). With a `memo`,
    the chain is verified from where the last check left it and only instances whose version
    moved are deserialized; the memo is brought up to date."""
    problems: list[Problem] = []
    problems += state.chain(session, memo)
    problems += state.projections(session, memo)
    problems += records.reports(session)
    problems += records.deviations(session)
    problems += records.decisions(session)
    problems += records.cycles(session, opening_allowed)
    problems += derived.check(session)
    return problems
