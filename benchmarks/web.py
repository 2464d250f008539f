"""Benchmark of the web pages: the inbox and the plan page, for a signed-in user, with the seed plan
and with 30,000 activities and 100,000 open tasks, on SQLite and (where one answers) PostgreSQL.
Writes its own section of benchmarks/RESULTS.md. See benchmarks/README.md.

    .venv/bin/python benchmarks/web.py            # about four minutes
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import bulk_open_tasks  # noqa: E402
from harness import big_plan, drop_schema, postgres_schema, write_section  # noqa: E402

from planflow import migrate  # noqa: E402
from planflow.app import create_app  # noqa: E402
from planflow.db import Database  # noqa: E402
from planflow.services.chain import cycles  # noqa: E402
from planflow.services.plan import demo, plans  # noqa: E402
from planflow.services.authority import people  # noqa: E402
from planflow.services.records.audit import OPERATOR_ACTOR, Actor  # noqa: E402

SECTION = "web"
PASSWORD = "benchmark-password"
TARGET_INBOX_P95, TARGET_PLAN_P95 = 50.0, 300.0


def prepare(url: str, folder: Path, document: dict[str, Any], open_tasks: int) -> Any:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": False}, str(folder))
    database: Database = app.extensions["planflow.db"]
    migrate.upgrade(database.engine)
    with database.transaction() as s:
        plans.load_plan(s, OPERATOR_ACTOR, document)
        demo.create_demo_data(s)
        for username in ("processledare", "anna.nilsson"):
            people.set_password(s, OPERATOR_ACTOR, username, PASSWORD)
    today = date.today()
    quarter = (today.month - 1) // 3 + 1
    with database.transaction() as s:
        leader = Actor(people.get_user(s, "processledare"))
        deadline = date(today.year, quarter * 3, 28)
        cycle_id = cycles.start_cycle(s, leader, f"{today.year}-Q{quarter}", deadline).id
    if open_tasks:  # the big plan: one batch of reports, then the open tasks as bulk rows
        with database.transaction() as s:
            cycles.open_reports(s, cycle_id)
        bulk_open_tasks(database, open_tasks)
    else:
        cycles.open_all(database.transaction, cycle_id)
    return app


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.status_code
    return client


def timed(client: Any, path: str, calls: int) -> tuple[float, float]:
    times = []
    for i in range(calls + 5):
        start = time.perf_counter()
        response = client.get(path)
        took = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if i >= 5:  # warm-up
            times.append(took)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


def measure(label: str, app: Any, calls: int) -> list[str]:
    rows = []
    for username, path in (("processledare", "/inbox"), ("anna.nilsson", "/inbox"), ("anna.nilsson", "/")):
        median, p95 = timed(signed_in(app, username), path, calls)
        target = TARGET_INBOX_P95 if path == "/inbox" else TARGET_PLAN_P95
        verdict = "PASS" if p95 <= target else "MISS"
        rows.append(
            f"| {label} | {path} as {username} | {median:.1f} | {p95:.1f} | ≤ {target:.0f} | {verdict} |"
        )
        print(rows[-1], flush=True)
    app.extensions["planflow.db"].dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the inbox and plan pages.")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--factor", type=int, default=500, help="activities per seed activity (500: 30,000)")
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="planflow-web-") as name:
        folder = Path(name)
        seed, big = plans.read_plan_document(), big_plan(folder, args.factor)
        size = f"{60 * args.factor:,} activities, {args.open_tasks:,} open tasks"
        backends: list[tuple[str, str, str | None]] = [
            ("SQLite", f"sqlite:///{folder / 'seed.sqlite3'}", None)
        ]
        if made := postgres_schema():  # where PostgreSQL answers
            backends.append(("PostgreSQL", made[1], made[0]))
        for backend, url, schema in backends:
            rows += measure(f"{backend}, seed plan", prepare(url, folder / "i1", seed, 0), args.calls)
            if schema:
                drop_schema(schema)
            big_url = url.replace("seed.sqlite3", "big.sqlite3")
            if schema:
                big_schema = postgres_schema()
                assert big_schema is not None
                schema, big_url = big_schema
            rows += measure(
                f"{backend}, {size}", prepare(big_url, folder / "i2", big, args.open_tasks), args.calls
            )
            if schema:
                drop_schema(schema)
    section = "\n".join(
        [
            f"<!-- begin {SECTION} -->",
            "## The web pages (`benchmarks/web.py`)",
            "",
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc: {os.cpu_count()}; "
            f"load average (1 min) at end: {os.getloadavg()[0]:.2f}",
            "",
            f"In-process through Flask's test client (no HTTP server), a signed-in session, {args.calls}"
            " calls after 5 warm-up calls. Seed plan: a cycle of the current quarter, opened. Big plan: its"
            " cycle's first batch of reports, then the open tasks inserted as rows in the process leader's"
            " lane; the plan page shows its first page (100 activities a page), the inbox its first"
            " (50 tasks).",
            "",
            "| database, data | page | median ms | p95 ms | target p95 | verdict |",
            "|---|---|---:|---:|---:|---|",
            *rows,
            f"<!-- end {SECTION} -->",
        ]
    )
    write_section(args.output, SECTION, section)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
