"""Load over HTTP: planflow as it runs in production (gunicorn's gthread workers with
planflow.gunicorn_conf) on PostgreSQL and SQLite, driven by concurrent closed-loop clients in which
owners report while their leads review in the same cycle and areas. Per run: completions/s, latency,
answers by status, server errors (deadlocks), what busy PostgreSQL sessions wait on, worker memory,
database bytes per completed task, and afterwards an exact accounting of what the database holds
against what the clients were told. Writes its section of benchmarks/RESULTS.md and its figures as
JSON. See benchmarks/README.md.

    .venv/bin/python benchmarks/load.py --quick   # PostgreSQL and SQLite, 1 and 2 workers, 16 clients
    .venv/bin/python benchmarks/load.py           # 1, 2, 4 workers × 16, 64 clients × 3, and memory
    .venv/bin/python benchmarks/load.py --soak    # one long run on PostgreSQL
    .venv/bin/python benchmarks/load.py --label after --baseline-from benchmarks/.work/load-before.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, deque
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from importlib import metadata
from itertools import zip_longest
from pathlib import Path
from typing import Any
from unittest import mock

import sqlalchemy as sa
from sqlalchemy import func, select, update

from planflow import migrate
from planflow.db import Database
from planflow.models import Activity, AuditEvent, AuditHead, FocusArea, OpenTask, StatusReport, User
from planflow.services.records import audit
from planflow.services.chain import cycles
from planflow.services.plan import demo, plans
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_report  # noqa: E402
from harness import (  # noqa: E402
    POSTGRES,
    Client,
    big_plan,
    create_database,
    drop_database,
    free_port,
    issue_tokens,
    machine,
    postgres_answers,
    wait_for_port,
    write_section,
)

HERE = Path(__file__).resolve().parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
READ_SHARE = 0.2  # of requests: GET /me or a first inbox page
REVIEW_SHARE = 0.5  # of completions, when a review is at hand (--reviews)
RETURN_SHARE = 0.1  # of reviews: returned with a comment (then reported again by the owner)
LEADS = 5  # demo users lead1 … lead5, one per focus area


@dataclass(frozen=True)
class Mode:
    """How much to run: which servers, how many clients, how long."""

    name: str
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    clients: tuple[int, ...]
    repeats: int
    requests: int  # per run, at most
    seconds: float  # per run, at most
    memory_requests: int  # the memory run (1 worker, 16 clients, per database); 0: none
    factor: int  # activities per seed activity: 60 × factor reports to make
    rss_every: int  # requests between two samples of the workers' memory (0: half a run)


MODES = {
    "quick": Mode("quick", ("postgresql", "sqlite"), (1, 2), (16,), 1, 1200, 60, 0, 25, 0),
    "full": Mode("full", ("postgresql", "sqlite"), (1, 2, 4), (16, 64), 3, 5000, 150, 20_000, 150, 0),
    "soak": Mode("soak", ("postgresql",), (2,), (64,), 1, 60_000, 1800, 0, 400, 10_000),
}


@dataclass
class Template:
    """A database made once per backend (migrated, seed data, big plan, one cycle opened, a token
    per user) and copied for every run."""

    backend: str
    url: str
    name: str  # a PostgreSQL database's name, or the SQLite file's path
    tokens: dict[str, str]
    reports: list[tuple[str, str, str]]  # (task id, owner, activity code), the areas taking turns
    owners: dict[str, str]  # activity code: its owner's username
    audit_seq: int
    activities: int
    seconds: float


def cheap_hash(password: str) -> str:
    """Nobody signs in with a password here; scrypt would spend seconds on the demo accounts."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, "pbkdf2:sha256:1000")


def make_template(backend: str, folder: Path, factor: int, tag: str) -> Template:
    started = time.perf_counter()
    if backend == "postgresql":
        name = f"pf_load_{tag}_template"
        url = create_database(name)
    else:
        name = str(folder / "template.sqlite3")
        url = f"sqlite:///{name}"
    db = Database(url)
    try:
        return _fill(db, backend, folder, factor, name, url, started)
    except BaseException:
        db.dispose()
        if backend == "postgresql":
            drop_database(name)
        raise


def _fill(
    db: Database, backend: str, folder: Path, factor: int, name: str, url: str, started: float
) -> Template:
    try:
        migrate.upgrade(db.engine)
        document = big_plan(folder, factor) if factor > 1 else plans.read_plan_document()
        with mock.patch.object(people, "generate_password_hash", cheap_hash), db.transaction() as s:
            plans.load_plan(s, OPERATOR_ACTOR, document)
            demo.create_demo_data(s)
            s.execute(update(Activity).values(starts_on=None, ends_on=None))  # every activity reports
            tokens = issue_tokens(s)
            leader = Actor(people.get_user(s, "processledare"))
            period, deadline = f"{date.today().year + 1}-Q1", date.today() + timedelta(days=90)
            cycle_id = cycles.start_cycle(s, leader, period, deadline).id
        cycles.open_all(db.transaction, cycle_id)  # here, not by a scheduler: no race
        with db.reading() as s:
            rows = s.execute(
                select(OpenTask.id, User.username, Activity.code, FocusArea.number)
                .join(Activity, Activity.id == OpenTask.activity_id)
                .join(User, User.id == Activity.owner_id)
                .join(FocusArea, FocusArea.id == OpenTask.focus_area_id)
                .where(OpenTask.cycle_id == cycle_id, OpenTask.name == "report_status")
                .order_by(Activity.id)
            ).all()
            activities = s.scalar(select(func.count()).select_from(Activity)) or 0
            head = s.get(AuditHead, 1)
            assert head is not None
            seq = head.seq
        if backend == "postgresql":  # what autovacuum does within a minute of such a load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("ANALYZE"))
    finally:
        db.dispose()
    assert len(rows) == activities, "every activity has an owner and a report to make"
    by_area: dict[int, list[tuple[str, str, str]]] = {}
    for task_id, owner, code, area in rows:
        by_area.setdefault(area, []).append((task_id, owner, code))
    # The areas take turns, so that every lead has reviews from the start, in areas still reporting.
    reports = [task for turn in zip_longest(*by_area.values()) for task in turn if task is not None]
    if backend == "sqlite":
        with closing(sqlite3.connect(name)) as connection:  # all of it in the one file, to copy
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    owners = {code: owner for _, owner, code in reports}
    took = time.perf_counter() - started
    return Template(backend, url, name, tokens, reports, owners, seq, activities, took)


def copy_database(template: Template, folder: Path, tag: str) -> tuple[str, str]:
    """A fresh copy of the template for one run: (url, name)."""
    if template.backend == "postgresql":
        name = f"pf_load_{tag}"
        return create_database(name, template=template.name), name
    path = folder / f"{tag}.sqlite3"
    shutil.copyfile(template.name, path)
    return f"sqlite:///{path}", str(path)


def database_bytes(backend: str, name: str) -> int:
    if backend == "postgresql":
        admin = sa.create_engine(POSTGRES)
        try:
            with admin.connect() as c:
                return int(c.execute(sa.text("SELECT pg_database_size(:n)"), {"n": name}).scalar_one())
        finally:
            admin.dispose()
    with closing(sqlite3.connect(name)) as connection:  # what the WAL holds, into the file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(name)


def drop_copy(backend: str, name: str) -> None:
    if backend == "postgresql":
        drop_database(name)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


class Server:
    """gunicorn with planflow's production settings on a free port of 127.0.0.1."""

    def __init__(self, url: str, workers: int, threads: int, folder: Path, log: Path) -> None:
        self.workers, self.port, self.log = workers, free_port(), log
        env = {
            **os.environ,
            "PLANFLOW_DATABASE_URL": url,
            "PLANFLOW_INSTANCE_PATH": str(folder / "instance"),
            "PLANFLOW_SECRET_KEY": "load",
        }
        command = [GUNICORN, "-c", "python:planflow.gunicorn_conf", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), "--threads", str(threads), "--no-control-socket"]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            if len(self.worker_pids()) == workers and wait_for_port(self.port, 1):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return sorted(int(pid) for pid in text.split())

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers so far."""
        return sum(process_cpu(pid) for pid in [self.process.pid, *self.worker_pids()])

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        return self.log.read_text(encoding="utf-8", errors="replace")


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, file: str = "status", key: str = "VmRSS:") -> float | None:
    """A process's resident memory (VmRSS); with file="smaps_rollup", key="Pss:", its share of it
    (pages shared with the master and the other workers divided among them)."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class Budget:
    """The run's bound: at most `requests` requests, none started after `seconds`."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.limit, self.issued, self.lock = requests, 0, threading.Lock()
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        with self.lock:
            if self.issued >= self.limit or time.monotonic() > self.deadline:
                return False
            self.issued += 1
            return True


@dataclass
class Tally:
    """What one client sent and was told."""

    latency: dict[str, list[float]] = field(default_factory=lambda: {"report": [], "review": [], "read": []})
    statuses: Counter[str] = field(default_factory=Counter)  # "kind status"
    reported: list[str] = field(default_factory=list)  # task ids, 2xx
    accepted: Counter[str] = field(default_factory=Counter)  # activity codes, 2xx
    returned: Counter[str] = field(default_factory=Counter)
    unknown: int = 0  # writes whose connection broke: done or not, the client cannot tell
    rework_lost: int = 0  # returned reports whose new task the owner did not find
    ended: str = ""


class LoadClient:
    """One client: a kept-alive connection, its share of the owners' reports, and its share of one
    lead's reviews; each turn one request: a read, a report or a review."""

    def __init__(
        self, index: int, clients: int, port: int, template: Template, seed: int, reviews: float
    ) -> None:
        self.http = Client(port)
        self.review_share = reviews
        self.rng = random.Random(seed * 1000 + index)
        self.tokens = template.tokens
        self.reports = deque(template.reports[index::clients])
        self.owner_of = template.owners
        self.lead = f"lead{index % LEADS + 1}"
        peers = [i for i in range(clients) if i % LEADS == index % LEADS]
        self.part, self.parts = peers.index(index), len(peers)
        self.reviews: deque[tuple[str, str]] = deque()  # (task id, activity code)
        self.rework: deque[tuple[str, int]] = deque()  # (activity code, tries)
        self.retried: set[str] = set()
        self.tally = Tally()

    def run(self, budget: Budget, start: threading.Barrier) -> None:
        try:
            self.http.call("GET", "/me", self.tokens[self.lead])  # the connection, before the clock
            start.wait(120)
            while budget.take():
                self.turn()
            self.tally.ended = "bound"
        except Exception as exc:  # noqa: BLE001 (said in the results, not lost in a thread)
            self.tally.ended = f"{type(exc).__name__}: {exc}"
        finally:
            self.http.close()

    def call(self, kind: str, method: str, path: str, user: str, body: Any = None) -> tuple[int, Any]:
        status, answer, took = self.http.call(method, path, self.tokens[user], body)
        self.tally.statuses[f"{kind} {status}"] += 1
        self.tally.latency["read" if method == "GET" else kind].append(took)
        if status == 0 and method != "GET":
            self.tally.unknown += 1
        return status, answer

    def turn(self) -> None:
        roll = self.rng.random()
        if roll < READ_SHARE:
            return self.read()
        wants_review = roll < READ_SHARE + (1 - READ_SHARE) * self.review_share
        if wants_review or not (self.reports or self.rework):
            return self.review() if self.reviews else self.refill()
        if self.rework:
            return self.find_rework()
        return self.report()

    def read(self) -> None:
        user = self.rng.choice([self.lead, self.reports[0][1] if self.reports else "processledare"])
        if self.rng.random() < 0.5:
            self.call("read", "GET", "/me", user)
        else:
            self.call("read", "GET", "/inbox?limit=50", user)

    def refill(self) -> None:
        """Read the lead's first 200 open reviews and keep this client's share."""
        status, page = self.call("read", "GET", "/inbox?role=focus_area_lead&limit=200", self.lead)
        if status == 200:
            for item in page["items"]:
                if (
                    item["name"] == "review_report"
                    and zlib.crc32(item["id"].encode()) % self.parts == self.part
                ):
                    self.reviews.append((item["id"], item["activity_code"]))

    def review(self) -> None:
        task_id, code = self.reviews.popleft()
        returning = self.rng.random() < RETURN_SHARE
        data = {"outcome": "return", "comment": "Komplettera, tack."} if returning else {"outcome": "accept"}
        status, _ = self.call("review", "POST", f"/tasks/{task_id}/complete", self.lead, {"data": data})
        if 200 <= status < 300:
            (self.tally.returned if returning else self.tally.accepted)[code] += 1
            if returning:
                self.rework.append((code, 0))
        elif status >= 500 and task_id not in self.retried:  # as a person would: try it once more
            self.retried.add(task_id)
            self.reviews.append((task_id, code))

    def find_rework(self) -> None:
        """The owner of a returned report finds its new task in the inbox (this turn's request)."""
        code, tries = self.rework.popleft()
        owner = self.owner_of[code]
        status, page = self.call("read", "GET", f"/inbox?role=activity_owner&q={code}&limit=200", owner)
        found = [
            item["id"]
            for item in (page or {}).get("items", [])
            if item["name"] == "report_status" and item["activity_code"] == code
        ]
        if status == 200 and found:
            self.reports.appendleft((found[0], owner, code))
        elif tries < 2:
            self.rework.append((code, tries + 1))
        else:
            self.tally.rework_lost += 1

    def report(self) -> None:
        task_id, owner, code = self.reports.popleft()
        data = {"data": {"status": "green", "comment": "Enligt plan."}}
        status, _ = self.call("report", "POST", f"/tasks/{task_id}/complete", owner, data)
        if 200 <= status < 300:
            self.tally.reported.append(task_id)
        elif status >= 500 and task_id not in self.retried:
            self.retried.add(task_id)
            self.reports.append((task_id, owner, code))


class Monitor:
    """Beside the clients: the workers' memory at given request counts, and (PostgreSQL) what the
    run's busy sessions wait on, once a second."""

    def __init__(self, server: Server, budget: Budget, checkpoints: list[int], database: str | None) -> None:
        self.server, self.budget, self.checkpoints = server, budget, deque(checkpoints)
        self.database = database
        self.rss: list[dict[str, Any]] = []
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self.busy = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def sample_rss(self, at: int) -> None:
        pids = self.server.worker_pids()
        self.rss.append(
            {
                "requests": at,
                "mb": {str(p): memory_mb(p) for p in pids},
                "pss_mb": {str(p): memory_mb(p, "smaps_rollup", "Pss:") for p in pids},
            }
        )

    def watch(self) -> None:
        engine = sa.create_engine(POSTGRES) if self.database else None
        query = sa.text(
            "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '-'), state,"
            " left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity"
            " WHERE datname = :db AND backend_type = 'client backend' AND state <> 'idle'"
            " AND pid <> pg_backend_pid()"
        )
        next_sample = time.monotonic() + 1
        try:
            while not self.stopping.wait(0.1) and time.monotonic() < self.budget.deadline + 60:
                while self.checkpoints and self.budget.issued >= self.checkpoints[0]:
                    self.sample_rss(self.checkpoints.popleft())
                if engine is not None and time.monotonic() >= next_sample:
                    next_sample += 1
                    with engine.connect() as c:
                        rows = c.execute(query, {"db": self.database}).all()
                    self.samples += 1
                    self.busy += len(rows)
                    for kind, event, state, text in rows:
                        self.waits[f"{kind}/{event} | {state} | {text}"] += 1
        finally:
            if engine is not None:
                engine.dispose()


def drive(
    server: Server,
    template: Template,
    clients: int,
    requests: int,
    seconds: float,
    checkpoints: list[int],
    database: str | None,
    seed: int,
    review_share: float,
) -> dict[str, Any]:
    budget = Budget(requests, seconds + 3600)  # the clock starts below, once every client is connected
    start = threading.Barrier(clients + 1)
    actors = [LoadClient(i, clients, server.port, template, seed, review_share) for i in range(clients)]
    threads = [threading.Thread(target=a.run, args=(budget, start), daemon=True) for a in actors]
    for thread in threads:
        thread.start()
    start.wait(120)
    budget.deadline = time.monotonic() + seconds
    monitor = Monitor(server, budget, checkpoints, database)
    monitor.sample_rss(0)
    monitor.thread.start()
    began, cpu, server_cpu, busy = (
        time.perf_counter(),
        time.process_time(),
        server.cpu_seconds(),
        machine_busy(),
    )
    for thread in threads:
        thread.join(max(1.0, budget.deadline - time.monotonic() + 120))
    wall = time.perf_counter() - began
    client_cpu, server_cpu = time.process_time() - cpu, server.cpu_seconds() - server_cpu
    busy_end = machine_busy()
    monitor.stopping.set()
    monitor.thread.join(30)
    if not monitor.rss or monitor.rss[-1]["requests"] != budget.issued:
        monitor.sample_rss(budget.issued)
    tallies = [a.tally for a in actors]
    statuses: Counter[str] = sum((t.statuses for t in tallies), Counter())
    latency = {k: sorted(x for t in tallies for x in t.latency[k]) for k in ("report", "review", "read")}
    completions = sum(n for key, n in statuses.items() if key.split()[0] != "read" and key.endswith(" 200"))
    return {
        "requests": budget.issued,
        "seconds": wall,
        "completions": completions,
        "rate": completions / wall if wall else 0.0,
        "latency": latency,
        "statuses": dict(statuses),
        "reported": [x for t in tallies for x in t.reported],
        "accepted": sum((t.accepted for t in tallies), Counter()),
        "returned": sum((t.returned for t in tallies), Counter()),
        "unknown": sum(t.unknown for t in tallies),
        "rework_lost": sum(t.rework_lost for t in tallies),
        "client_errors": [t.ended for t in tallies if t.ended != "bound"],
        "stuck_clients": sum(thread.is_alive() for thread in threads),
        "client_cpu": client_cpu / wall,
        "server_cpu": server_cpu / wall,
        "machine_busy": (busy_end[0] - busy[0]) / max(1, busy_end[1] - busy[1]),
        "rss": monitor.rss,
        "pg_samples": monitor.samples,
        "pg_busy": monitor.busy,
        "pg_waits": monitor.waits.most_common(8),
    }


def account(url: str, template: Template, driven: dict[str, Any]) -> dict[str, Any]:
    """What the database holds against what the clients were told: every 2xx completion is one
    status report (or one review outcome on one) and one audit event of its action, and nothing
    else happened; and the audit chain verifies."""
    db = Database(url)
    try:
        with db.reading() as s:
            reports = s.execute(select(StatusReport.task_id, StatusReport.review)).all()
            events = s.execute(
                select(AuditEvent.action, AuditEvent.subject_id).where(AuditEvent.seq > template.audit_seq)
            ).all()
            chain = audit.verify(s)
            head = s.get(AuditHead, 1)
            head_seq = head.seq if head else -1
    finally:
        db.dispose()
    actions = Counter(action for action, _ in events)
    by_code = {a: Counter(code for action, code in events if action == a) for a in actions}
    reviews = Counter(str(review) for _, review in reports)
    checks = {
        "status reports = 2xx reports": (len(reports), len(driven["reported"])),
        "their tasks = the 2xx reports' tasks": set(t for t, _ in reports) == set(driven["reported"]),
        "status.reported events = 2xx reports": (actions.pop("status.reported", 0), len(driven["reported"])),
        "accepted reports = 2xx accepts": (reviews["accepted"], sum(driven["accepted"].values())),
        "status.accepted events, by activity = 2xx accepts": by_code.get("status.accepted", Counter())
        == driven["accepted"],
        "returned reports = 2xx returns": (reviews["returned"], sum(driven["returned"].values())),
        "status.returned events, by activity = 2xx returns": by_code.get("status.returned", Counter())
        == driven["returned"],
    }
    actions.pop("status.accepted", None)
    actions.pop("status.returned", None)
    exact = all(v if isinstance(v, bool) else v[0] == v[1] for v in checks.values()) and not actions
    return {
        "exact": exact and driven["unknown"] == 0,
        "checks": {k: v if isinstance(v, bool) else list(v) for k, v in checks.items()},
        "other_events": dict(actions),
        "verified": chain.intact and chain.checked == head_seq,
        "verify": f"{chain.checked} events, intact"
        if chain.intact
        else f"broken at {chain.first_bad}: {chain.problem}",
    }


def server_errors(log: str) -> dict[str, Any]:
    """What the server's log says went wrong: the records that are errors, the deadlocks among
    them (and the table whose row each was waiting for), the exceptions by their last line, worker
    timeouts and restarts."""
    records = re.split(r"(?m)^(?=\[\d{4}-\d\d-\d\d )", log)
    errors = [r for r in records if "[ERROR]" in r.split("\n", 1)[0] or "Traceback" in r]
    kinds: Counter[str] = Counter()
    where: Counter[str] = Counter()
    for record in errors:
        raised = re.findall(r"(?m)^(?:[a-z_]+\.)+[A-Za-z_]+: .*$", record)
        kinds[(raised[-1] if raised else record.splitlines()[0])[:110]] += 1
        if "deadlock detected" in record:
            tables = re.findall(r'CONTEXT: +while [^"]* in relation "(\w+)"', record) or re.findall(
                r'\[SQL: (?:SELECT .*?FROM|UPDATE|INSERT INTO|DELETE FROM) "?(\w+)', record, re.S
            )
            where[tables[-1] if tables else "?"] += 1
    return {
        "errors": len(errors),
        "deadlocks": sum("deadlock detected" in r for r in errors),
        "deadlocks_at": dict(where),
        "kinds": kinds.most_common(6),
        "timeouts": log.count("WORKER TIMEOUT"),
        "boots": log.count("Booting worker"),
    }


@dataclass(frozen=True)
class Run:
    """One server configuration, run once."""

    workers: int
    clients: int
    repeat: int
    requests: int
    seconds: float
    rss_every: int  # requests between two memory samples (0: half the run)
    memory: bool = False

    def name(self, backend: str) -> str:
        return f"{backend}-{self.workers}w-{self.clients}c-{'memory' if self.memory else self.repeat + 1}"


def runs_of(mode: Mode) -> list[Run]:
    runs = [
        Run(workers, clients, repeat, mode.requests, mode.seconds, mode.rss_every)
        for workers in mode.workers
        for clients in mode.clients
        for repeat in range(mode.repeats)
    ]
    if mode.memory_requests:
        runs.append(Run(1, 16, 0, mode.memory_requests, max(mode.seconds, 600), 10_000, memory=True))
    return runs


def one_run(template: Template, run: Run, args: argparse.Namespace, folder: Path, tag: str) -> dict[str, Any]:
    """Serve a fresh copy of the template, drive it, stop it, then count and verify."""
    url, name = copy_database(template, folder, tag)
    try:
        before = database_bytes(template.backend, name)
        logs = args.logs or folder
        logs.mkdir(parents=True, exist_ok=True)
        server = Server(
            url, run.workers, args.threads, folder, logs / f"{run.name(template.backend)}.server.log"
        )
        try:
            warm = min(500, max(50, run.requests // 10))
            step = run.rss_every or max(1, run.requests // 2)
            checkpoints = sorted({warm, *range(step, run.requests + 1, step)})
            pg = name if template.backend == "postgresql" else None
            seed = args.seed + run.repeat
            driven = drive(
                server, template, run.clients, run.requests, run.seconds, checkpoints, pg, seed, args.reviews
            )
            pids = server.worker_pids()
        finally:
            log = server.stop()
        after = database_bytes(template.backend, name)
        accounting = account(url, template, driven)
    finally:
        drop_copy(template.backend, name)
    latency = driven.pop("latency")
    result = {
        "backend": template.backend,
        **asdict(run),
        "threads": args.threads,
        **{k: v for k, v in driven.items() if k not in ("reported", "accepted", "returned")},
        "reports": len(driven["reported"]),
        "accepts": sum(driven["accepted"].values()),
        "returns": sum(driven["returned"].values()),
        "latency_ms": load_report.percentiles(sorted(latency["report"] + latency["review"])),
        "latency_by_kind_ms": {k: load_report.percentiles(sorted(v)) for k, v in latency.items()},
        "server": server_errors(log),
        "workers_at_end": len(pids),
        "accounting": accounting,
        "db_bytes": after - before,
        "db_bytes_per_task": (after - before) / driven["completions"] if driven["completions"] else None,
    }
    print(load_report.one_line(result), flush=True)
    return result


def measure(mode: Mode, args: argparse.Namespace, label: str, commit: str) -> dict[str, Any]:
    """Every run of the mode, backend by backend, each database prepared once and copied per run."""
    started, at_start = time.perf_counter(), machine()
    tag = uuid.uuid4().hex[:8]
    runs: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="planflow-load-") as name:
        folder = Path(name)
        for backend in mode.backends:
            template = make_template(backend, folder, mode.factor, tag)
            templates.append(
                {"backend": backend, "activities": template.activities, "seconds": template.seconds}
            )
            print(f"{backend}: {template.activities:,} reports to make, prepared in {template.seconds:.0f} s")
            try:
                for n, run in enumerate(runs_of(mode)):
                    runs.append(one_run(template, run, args, folder, f"{tag}_{n}"))
            finally:
                if backend == "postgresql":
                    drop_database(template.name)
    return {
        "label": label,
        "commit": commit,
        "mode": asdict(mode),
        "threads": args.threads,
        "reviews": args.reviews,
        "machine": at_start,
        "load_at_end": os.getloadavg()[0],
        "seconds": time.perf_counter() - started,
        "gunicorn": metadata.version("gunicorn"),
        "templates": templates,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--quick", action="store_true", help="a smoke test: a few minutes")
    chosen.add_argument("--soak", action="store_true", help="one long run on PostgreSQL")
    chosen.add_argument("--render", type=Path, help="only write the section again from a JSON file")
    parser.add_argument("--label", help="names this run's figures (default: the commit)")
    parser.add_argument("--baseline-from", type=Path, help="a JSON file an earlier run wrote: side by side")
    parser.add_argument("--json", type=Path, help="where to write the figures (default benchmarks/.work/)")
    parser.add_argument("--backends", help="postgresql,sqlite (default: the mode's)")
    parser.add_argument("--workers", help="e.g. 1,2,4 (default: the mode's)")
    parser.add_argument("--clients", help="e.g. 16,64 (default: the mode's)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--requests", type=int, help="per run, at most")
    parser.add_argument("--seconds", type=float, help="per run, at most")
    parser.add_argument("--memory-requests", type=int, help="the memory run's requests (0: none)")
    parser.add_argument("--factor", type=int, help="activities per seed activity in the plan")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reviews",
        type=float,
        default=REVIEW_SHARE,
        help="share of completions that are reviews (0: reports)",
    )
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--section", default="load", help="the RESULTS.md section to write (default load)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless every run was sound (no 5xx, no deadlock, exact)"
    )
    args = parser.parse_args()
    baseline = json.loads(args.baseline_from.read_text(encoding="utf-8")) if args.baseline_from else None
    if args.render:
        figures, target = json.loads(args.render.read_text(encoding="utf-8")), args.render
    else:
        mode = MODES["quick" if args.quick else "soak" if args.soak else "full"]
        ints = lambda text: tuple(int(x) for x in text.split(","))  # noqa: E731
        mode = replace(
            mode,
            backends=tuple(args.backends.split(",")) if args.backends else mode.backends,
            workers=ints(args.workers) if args.workers else mode.workers,
            clients=ints(args.clients) if args.clients else mode.clients,
            repeats=args.repeats or mode.repeats,
            requests=args.requests or mode.requests,
            seconds=args.seconds or mode.seconds,
            memory_requests=mode.memory_requests if args.memory_requests is None else args.memory_requests,
            factor=args.factor or mode.factor,
        )
        if "postgresql" in mode.backends and not postgres_answers():
            print("PostgreSQL does not answer: SQLite only", flush=True)
            mode = replace(mode, backends=tuple(b for b in mode.backends if b != "postgresql"))
        commit = git_commit()
        label = args.label or commit
        figures = measure(mode, args, label, commit)
        target = args.json or HERE / ".work" / f"load-{re.sub(r'[^A-Za-z0-9_.-]', '_', label)}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(figures, indent=1, default=list), encoding="utf-8")
    section = load_report.section(figures, baseline, target, args.section)
    write_section(args.output, args.section, section)
    print(section)
    print(f"figures: {target}")
    if args.check and not load_report.sound(figures):
        sys.exit("load.py --check: a run answered 5xx, deadlocked, broke a connection or did not add up")


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


if __name__ == "__main__":
    main()
