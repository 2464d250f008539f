"""Benchmark of `audit verify` over a long chain: 1,000,000 events (100,000 with --quick) on SQLite
and, where one answers, PostgreSQL; beside it, in the same run, the walk planflow used before
(ORM objects, the generic JSON encoder) over the same events. Writes its own section of
benchmarks/RESULTS.md (between `<!-- begin audit -->` and `<!-- end audit -->`).

    .venv/bin/python benchmarks/audit.py [--quick] [--events N] [--repeats N] [--output PATH]

The events are written straight into the table in batches, hashed as planflow hashes them, with
the shapes the chain holds (a status report with its comment and cause, an acceptance, a decision
with its rationale); the head row is set to the last. Timings are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from planflow import migrate
from planflow.db import Database
from planflow.models import AuditEvent, AuditHead
from planflow.services.records import audit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

TARGET_SECONDS = 10.0  # for 1,000,000 events
BATCH = 10_000


def _events(count: int) -> Iterator[dict[str, Any]]:
    """`count` chained events as rows, in seq order."""
    previous, start = audit.GENESIS, datetime(2026, 1, 1, 8, tzinfo=UTC)
    for seq in range(1, count + 1):
        kind = seq % 3
        fields: dict[str, Any] = {
            "seq": seq,
            "occurred_at": (start + timedelta(seconds=seq)).isoformat(),
            "actor": f"agare{seq % 40}.nilsson" if kind == 0 else f"lead{seq % 5 + 1}",
            "on_behalf_of": None,
            "role": "activity_owner" if kind == 0 else "focus_area_lead",
            "action": ("status.reported", "status.accepted", "deviation.decided")[kind],
            "subject_type": "activity" if kind < 2 else "deviation",
            "subject_id": f"{seq % 5 + 1}.{seq % 4 + 1}.{seq % 3 + 1}",
            "data": [
                {"status": "yellow", "comment": "Förseningar i upphandlingen, åtgärd pågår.", "cause": "Resursbrist.", "report": seq},
                {"report": seq, "status": "green"},
                {"decision": "reprioritise", "rationale": "Styrgruppen prioriterar om inför nästa år."},
            ][kind],
            "reason": "Resursbrist." if kind == 0 else None,
            "prev_hash": previous,
        }  # fmt: skip
        previous = audit.fields_hash(fields)
        yield {**fields, "occurred_at": start + timedelta(seconds=seq), "hash": previous}


def fill(database: Database, count: int) -> float:
    """Write `count` events and the head; returns the seconds it took."""
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    with database.engine.begin() as connection:
        for row in _events(count):
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(sa.insert(AuditEvent), batch)
                last, batch = batch[-1], []
        if batch:
            connection.execute(sa.insert(AuditEvent), batch)
            last = batch[-1]
        connection.execute(sa.update(AuditHead).values(seq=last["seq"], hash=last["hash"]))
    return time.perf_counter() - began


def verify_now(database: Database) -> audit.Verification:
    with database.reading() as session:
        return audit.verify(session)


def verify_before(database: Database) -> audit.Verification:
    """The walk before this change: ORM objects 1,000 at a time, each hashed with json.dumps."""
    expected, previous = 1, audit.GENESIS
    with database.reading() as session:
        events = session.scalars(
            sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
        )
        for event in events:
            canonical = json.dumps(
                audit.event_fields(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            stored_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            if event.seq != expected or event.prev_hash != previous or stored_hash != event.hash:
                return audit.Verification(expected - 1, event.seq, "broken")
            previous, expected = event.hash, expected + 1
        events.close()
    return audit.Verification(expected - 1)


def timed(work: Callable[[], audit.Verification], count: int, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - began)
        assert result.intact and result.checked == count, result
    return seconds


def run_backend(label: str, url: str, count: int, repeats: int) -> dict[str, Any]:
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
        filled = fill(database, count)
        now = timed(lambda: verify_now(database), count, repeats)
        before = timed(lambda: verify_before(database), count, 1)
        return {"label": label, "filled": filled, "now": now, "before": before}
    finally:
        database.dispose()


def section(
    count: int, quick: bool, repeats: int, results: list[dict[str, Any]], host: dict[str, Any]
) -> str:
    lines = [
        "<!-- begin audit -->",
        "## The audit chain: verify a long chain",
        "",
        "Generated by `benchmarks/audit.py`" + (" --quick" if quick else "") + "; rerun it to refresh this section.",
        "",
        f"- date: {host['date']}; nproc: {host['nproc']}; CPU: {host['cpu']}; load average at start: {host['load']:.2f}",
        f"- {count:,} events (a status report, an acceptance, a decision in turn), written straight into the table;"
        f" `audit.verify` (chain and head row) {repeats}× per database, the walk before this change once, same run.",
        "",
        "| database | events | verify now: median s (min–max) | before: s | before ÷ now | per 1,000,000 events | target ≤ 10 s per 1,000,000 |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    for result in results:
        now, before = statistics.median(result["now"]), result["before"][0]
        per_million = now * 1_000_000 / count
        verdict = "**PASS**" if per_million <= TARGET_SECONDS else "**MISS**"
        lines.append(
            f"| {result['label']} | {count:,} | {now:.2f} ({min(result['now']):.2f}–{max(result['now']):.2f})"
            f" | {before:.2f} | {before / now:.1f}× | {per_million:.1f} s | {verdict} |"
        )
    lines += [
        "",
        "Now: the rows as the driver gives them (no ORM objects, no type processing), the data hashed as"
        " stored (JSON columns are stored canonically), the canonical form written out by hand"
        " (`audit.canonical`, held equal to `json.dumps(sort_keys=True, separators=(',', ':'),"
        " ensure_ascii=False)` by a property test). Before: ORM objects 1,000 at a time, each re-encoded"
        " by the generic encoder.",
        "<!-- end audit -->",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events, 1 repeat")
    parser.add_argument("--events", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    count = args.events or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    host = harness.machine()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run_backend("SQLite", f"sqlite:///{folder}/audit.sqlite3", count, repeats))
    found = harness.postgres_schema()
    if found is not None:
        schema, url = found
        try:
            results.append(run_backend("PostgreSQL", url, count, repeats))
        finally:
            harness.drop_schema(schema)
    text = section(count, args.quick, repeats, results, host)
    harness.write_section(args.output, "audit", text)
    print(text)


if __name__ == "__main__":
    main()
