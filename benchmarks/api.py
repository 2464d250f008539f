"""Benchmark of the JSON API over HTTP on loopback, with the production server (waitress, one
process, one thread): a task completion (POST /api/v1/tasks/{id}/complete) on SQLite and
PostgreSQL, and GET /api/v1/inbox for one user with 100,000 open tasks in the database.

    .venv/bin/python benchmarks/api.py            # writes its section of benchmarks/RESULTS.md

PostgreSQL: PLANFLOW_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
in a schema made for the run and dropped after it; skipped when none answers.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from planflow import clock, migrate
from planflow.db import Database
from planflow.models import OpenTask, ProcessInstance
from planflow.services.authority import access, people
from planflow.services.chain import cycles, tasks
from planflow.services.plan import demo, plans
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    Client,
    drop_schema,
    free_port,
    issue_tokens,
    postgres_schema,
    stats,
    wait_for_port,
    write_section,
)

ANCHOR_MEDIAN, ANCHOR_P95 = 38.5, 49.6  # spiff-arena v3.0.0, task PUT on SQLite, this kind of machine
TARGET_MEDIAN, TARGET_INBOX_P95 = 3.8, 50.0
MARK = "## API over HTTP"


def serve(url: str | None, folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """planflow on `url` under waitress (one thread); with no url, a bare Flask app answering
    GET /api/v1/me with a small JSON object, on the same server: what any request costs."""
    port = free_port()
    app = (
        f"create_app({{'DATABASE_URL': {url!r}, 'SECRET_KEY': 'bench'}}, {str(folder)!r})" if url else "bare"
    )
    code = (
        "from waitress import serve; from planflow.app import create_app; from flask import Flask; "
        "bare = Flask('bare'); bare.get('/api/v1/me')(lambda: {'username': 'bare', 'may': []}); "
        f"serve({app}, host='127.0.0.1', port={port}, threads=1, _quiet=True)"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
    if wait_for_port(port, 20):
        return server, port
    server.kill()
    raise RuntimeError("the server did not start")


def prepare(url: str) -> tuple[Database, dict[str, str]]:
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.transaction() as s:
        plans.load_plan(s, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(s)
        tokens = issue_tokens(s)
        leader = Actor(people.get_user(s, "processledare"))
        period, deadline = f"{date.today().year + 1}-Q1", date.today() + timedelta(days=90)
        cycle = cycles.start_cycle(s, leader, period, deadline)
    cycles.open_all(db.transaction, cycle.id)  # here, not by the server's scheduler: no race
    return db, tokens


def inbox(client: Client, token: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        status, page, _ = client.call(
            "GET", "/inbox?limit=200" + (f"&cursor={cursor}" if cursor else ""), token
        )
        assert status == 200, page
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def completions(client: Client, tokens: dict[str, str]) -> dict[str, list[float]]:
    """Every report_status of the cycle by its owner, then every review by its lead, over HTTP."""
    times: dict[str, list[float]] = {"report_status": [], "review_report": []}
    for name, data, users in (
        ("report_status", {"status": "green", "comment": "ok"}, [u for u in tokens if "." in u]),
        ("review_report", {"outcome": "accept"}, [f"lead{n}" for n in range(1, 6)]),
    ):
        for user in users:
            for task in [t for t in inbox(client, tokens[user]) if t["name"] == name]:
                status, body, took = client.call(
                    "POST", f"/tasks/{task['id']}/complete", tokens[user], {"data": data}
                )
                assert status == 200, body
                times[name].append(took)
    return times


def bulk_open_tasks(db: Database, count: int) -> None:
    """`count` open process-leader tasks, inserted as rows (no workflow runs them)."""
    with db.transaction() as s:
        instance = s.scalar(sa.select(ProcessInstance.id).limit(1))
        today = date.today()
        rows = [
            {
                "id": str(uuid.uuid4()),
                "instance_id": instance,
                "process_id": "deviation",
                "name": "draft_recommendation",
                "lane": "process_leader",
                "due_on": today + timedelta(days=random.randint(-30, 120)),
                "claimed": False,
                "created_at": clock.now(),
            }
            for _ in range(count)
        ]
        for start in range(0, count, 5000):
            s.execute(sa.insert(OpenTask), rows[start : start + 5000])
    if db.engine.dialect.name == "postgresql":  # what autovacuum does within a minute of such a load
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("ANALYZE"))


def sorted_inbox_baseline(session: sa.orm.Session, user: Any, limit: int) -> list[Any]:
    """The inbox's first page as read before migration 0010, kept here as the baseline: the
    authority's condition as one OR, and the whole inbox sorted (due date, nulls last)."""
    condition = access.task_condition(session, access.represented(session, user))
    query = (
        sa.select(OpenTask)
        .where(condition)
        .order_by(OpenTask.due_on.is_(None), OpenTask.due_on, OpenTask.created_at, OpenTask.id)
        .limit(limit + 1)
    )
    return list(session.scalars(query))


WHAT = {
    "baseline": "baseline: one OR condition, the whole inbox sorted (the query before 0010)",
    "now": "tasks.inbox_page: an ordered walk per branch",
}


def inbox_side_by_side(label: str, db: Database, calls: int) -> list[str]:
    """In process, no HTTP: the first page of 50 for the process leader (every task in the lane)
    and an owner (7 among them), the baseline query and today's, alternating call by call."""
    lines = []
    for username in ("processledare", "anna.nilsson"):
        series: dict[str, list[float]] = {"baseline": [], "now": []}
        with db.reading() as s:
            user = people.get_user(s, username)
            assert [t.id for t in sorted_inbox_baseline(s, user, 50)][:50] == [
                t.id for t in tasks.inbox_page(s, user, limit=50).items
            ]
            readers: dict[str, Any] = {
                "baseline": lambda s, user: sorted_inbox_baseline(s, user, 50),
                "now": lambda s, user: tasks.inbox_page(s, user, limit=50),
            }
            for n in range(calls + 10):
                for name, read in readers.items():
                    start = time.perf_counter()
                    read(s, user)
                    if n >= 10:
                        series[name].append((time.perf_counter() - start) * 1000)
        for name, times in series.items():
            n, median, p95 = stats(times)
            lines.append(
                f"| {label} | in process, {username}: {WHAT[name]} | {n} | {median:.2f} | {p95:.2f} |"
            )
    return lines


def bare_request(folder: Path) -> str:
    """The table row of a bare Flask request over the same server: what GET /me is held against."""
    server, port = serve(None, folder)
    try:
        client = Client(port)
        for _ in range(20):
            client.call("GET", "/me", "-")
        n, median, p95 = stats([client.call("GET", "/me", "-")[2] for _ in range(500)])
        BARE.append(median)
        return f"| — | bare Flask, GET a small JSON object over the same server | {n} | {median:.2f} | {p95:.2f} |"
    finally:
        server.terminate()
        server.wait(10)


BARE: list[float] = []  # the bare request's median, once measured


def run_backend(label: str, url: str, folder: Path, inbox_rows: int, inbox_calls: int) -> list[str]:
    db, tokens = prepare(url)
    server, port = serve(url, folder)
    try:
        client = Client(port)
        for _ in range(20):  # warm-up: connections, caches, the specs
            client.call("GET", "/me", tokens["processledare"])
        n, median, p95 = stats([client.call("GET", "/me", tokens["anna.nilsson"])[2] for _ in range(200)])
        ratio = f" ({median / BARE[0]:.1f}× bare; target ≤ 3×)" if BARE else ""
        lines = [
            f"| {label} | floor: GET /me (token check, standing, the caller's roles; no write){ratio} "
            f"| {n} | {median:.2f} | {p95:.2f} |"
        ]
        times = completions(client, tokens)
        for name, series in times.items():
            n, median, p95 = stats(series[5:])
            lines.append(f"| {label} | POST complete ({name}) | {n} | {median:.2f} | {p95:.2f} |")
        n, median, p95 = stats(times["report_status"][5:] + times["review_report"][5:])
        lines.append(f"| {label} | POST complete (both) | {n} | **{median:.2f}** | **{p95:.2f}** |")
        bulk_open_tasks(db, inbox_rows)
        took = [client.call("GET", "/inbox", tokens["processledare"])[2] for _ in range(inbox_calls + 10)][
            10:
        ]
        n, median, p95 = stats(took)
        lines.append(
            f"| {label} | GET /inbox, {inbox_rows:,} open tasks the user may act on, first page of 50 "
            f"| {n} | {median:.2f} | **{p95:.2f}** |"
        )
        lines += inbox_side_by_side(label, db, inbox_calls)
        return lines
    finally:
        server.terminate()
        server.wait(10)
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox-rows", type=int, default=100_000)
    parser.add_argument("--inbox-calls", type=int, default=200)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    started = time.time()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(bare_request(Path(folder)))
        rows += run_backend(
            "SQLite", f"sqlite:///{folder}/api.sqlite3", Path(folder), args.inbox_rows, args.inbox_calls
        )
        made = postgres_schema()
        if made is not None:
            try:
                rows += run_backend("PostgreSQL", made[1], Path(folder), args.inbox_rows, args.inbox_calls)
            finally:
                drop_schema(made[0])
    section = "\n".join(
        [
            "<!-- begin api -->",
            MARK,
            "",
            "Generated by `benchmarks/api.py`; rerun it to refresh this section.",
            "",
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc: {os.cpu_count()}; "
            f"load average (1 min) at end: {os.getloadavg()[0]:.2f}; run {time.time() - started:.0f} s",
            "- Server: waitress, one process, `threads=1`, on 127.0.0.1; client: `http.client` over one "
            "kept-alive connection, one request at a time; times are client-side, request to last byte.",
            "- Completions: every `report_status` of a new cycle of the seed plan (60), each by its owner "
            "with its own token, then every `review_report` by its lead; the first 5 of each dropped. "
            "Each completion is one transaction: token check, authority, form, engine, records, audit.",
            f"- Inbox: {args.inbox_rows:,} open tasks in the process leader's lane inserted as rows (no "
            f"workflow), due dates spread over 150 days; `GET /api/v1/inbox` (first page, 50 tasks) "
            f"{args.inbox_calls} times after 10.",
            "",
            "| database | operation | n | median ms | p95 ms |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
            "Anchor (spiff-arena v3.0.0, task PUT on SQLite): "
            f"{ANCHOR_MEDIAN} ms median, {ANCHOR_P95} ms p95; "
            f"target for completion ≤ {TARGET_MEDIAN} ms median (10×). Target for the inbox: p95 ≤ "
            f"{TARGET_INBOX_P95:.0f} ms.",
            "<!-- end api -->",
        ]
    )
    write_section(args.output, "api", section)  # the others belong to run.py, web.py, …
    print(section)


if __name__ == "__main__":
    main()
