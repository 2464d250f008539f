"""Benchmark of planflow's task completion: the service call against the raw engine work it wraps,
and a 60-activity plan against a 6,000-activity plan. See benchmarks/README.md.

    .venv/bin/python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py --quick    # fewer rounds, a smoke test
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, func, select, text, update

from planflow import clock, migrate
from planflow.db import Database
from planflow.engine import ProcessRun
from planflow.models import Activity, CycleState, FocusArea, OpenTask, ReportingCycle, User
from planflow.services.chain import cycles, instances, tasks, timers
from planflow.services.plan import demo, plans
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import big_plan  # noqa: E402

REPORT = {"status": "green", "comment": "ok"}
REVIEW = {"outcome": "accept"}
START = {"period": "2026-Q4", "deadline": "2026-12-15", "activity_code": "1.1.1", "activity_title": "x"}
SERVICE_VS_RAW, BIG_VS_SEED = 2.0, 1.5  # the targets
WARMUP = 20  # the first samples of every series are dropped
T = TypeVar("T")


@dataclass
class Series:
    """Durations (ns) of one operation, and how many SQL statements each one issued."""

    label: str
    warmup: int = WARMUP
    times: list[int] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    def add(self, took: int, statements: int) -> None:
        if self.warmup:
            self.warmup -= 1  # a warm-up sample, dropped
        else:
            self.times.append(took)
            self.statements.append(statements)

    def median(self) -> float:
        return statistics.median(self.times) / 1e6

    def p90(self) -> float:
        return statistics.quantiles(self.times, n=10)[-1] / 1e6


SQL: list[str] = []  # every statement any engine runs; cleared before each timed operation


def timed(series: Series, action: Callable[..., T], *args: Any) -> T:
    SQL.clear()
    start = time.perf_counter_ns()
    result = action(*args)
    series.add(time.perf_counter_ns() - start, len(SQL))
    return result


def complete(db: Database, username: str, task_id: str, data: dict[str, Any]) -> None:
    """The service call as the web layer makes it, commit included."""
    with db.transaction() as s:
        tasks.complete_task(s, people.get_user(s, username), task_id, data)


def make_database(folder: Path, name: str, document: dict[str, Any]) -> Database:
    db = Database(f"sqlite:///{folder / name}.sqlite3")
    event.listen(db.engine, "before_cursor_execute", lambda _c, _k, statement, *_: SQL.append(statement))
    migrate.upgrade(db.engine)
    with db.transaction() as s:
        plans.load_plan(s, OPERATOR_ACTOR, document)
        demo.create_demo_data(s)
        # The demo's timelines lie around today; here every activity reports in every period.
        s.execute(update(Activity).values(starts_on=None, ends_on=None))
    return db


def start_cycle(db: Database, period: str, batches: Series | None = None) -> int:
    """Start a cycle and open it batch by batch (each batch one transaction, timed into `batches`).
    A plan has one unfinished cycle at a time: the benchmark's earlier ones count as reported."""
    with db.transaction() as s:
        s.execute(update(ReportingCycle).values(state=CycleState.REPORTED))
        leader = people.get_user(s, "processledare")
        deadline = clock.now().date() + timedelta(days=60)
        cycle_id = cycles.start_cycle(s, Actor(leader), period, deadline).id
    while True:
        start = time.perf_counter_ns()
        with db.transaction() as s:
            started = cycles.open_reports(s, cycle_id)
        if batches is not None:
            batches.add(time.perf_counter_ns() - start, 0)
        if not started:
            return cycle_id


def fire_timers(db: Database, cycle_id: int, reds: int, into: Series) -> int:
    """Make `reds` red deviations in a cycle, then fire their escalation timers with each
    instance's transaction timed into `into`; returns how many fired."""
    for task, user, _ in open_tasks(db, cycle_id, "report_status")[:reds]:
        complete(db, user, task, {"status": "red", "cause": "benchmark"})
    for task, user, _ in open_tasks(db, cycle_id, "review_report")[:reds]:
        complete(db, user, task, REVIEW)
    fire_one = timers._fire

    def timed_fire(*args: Any) -> int:
        return timed(into, fire_one, *args)

    timers._fire = timed_fire  # type: ignore[assignment]
    try:
        return timers.fire_due_timers(db.transaction, clock.now() + timedelta(days=400))
    finally:
        timers._fire = fire_one  # type: ignore[assignment]


def opening_at_scale(folder: Path, factor: int) -> dict[str, Any]:
    """A plan of 60 × `factor` activities: how long its load and each transaction of opening a cycle
    take, and each transaction firing due timers."""
    started = time.perf_counter()
    db = make_database(folder, "scale", big_plan(folder, factor))
    loaded = time.perf_counter() - started
    batches = Series(
        f"{60 * factor:,}: cycles.open_reports, one batch of {cycles.OPEN_BATCH} (a transaction)", 0
    )
    started = time.perf_counter()
    cycle_id = start_cycle(db, "2026-Q4", batches)
    opened = time.perf_counter() - started
    fires = Series(f"{60 * factor:,}: timers, one instance fired (a transaction)", 0)
    fired = fire_timers(db, cycle_id, 50, fires)
    db.dispose()
    return {
        "activities": 60 * factor,
        "load_s": loaded,
        "open_s": opened,
        "batches": batches,
        "fires": fires,
        "fired": fired,
    }


def open_tasks(db: Database, cycle_id: int, name: str) -> list[tuple[str, str, int]]:
    """(task id, who completes it, instance id) of a cycle's open tasks of one kind, by activity:
    a report goes to its owner, a review to the focus area's lead (demo user leadN)."""
    with db.sessions() as s:
        rows = s.execute(
            select(OpenTask.id, User.username, FocusArea.number, OpenTask.instance_id)
            .join(Activity, Activity.id == OpenTask.activity_id)
            .outerjoin(User, (User.id == Activity.owner_id) & (OpenTask.lane == "activity_owner"))
            .join(FocusArea, FocusArea.id == OpenTask.focus_area_id)
            .where(OpenTask.cycle_id == cycle_id, OpenTask.name == name)
            .order_by(OpenTask.activity_id)
        ).all()
    return [(task_id, user or f"lead{area}", instance) for task_id, user, area, instance in rows]


class Raw:
    """The engine work of one report_status completion, without a database: planflow's ProcessRun
    (spec by reference) and plain SpiffWorkflow with its default serializer (spec in the state)."""

    def __init__(self) -> None:
        self.definition = instances.library().current("activity_report")
        self.fields = instances.library().forms.get("report_status").fields
        run, _ = ProcessRun.start(self.definition, START)
        self.state, self.task_id = run.dump(), run.human_tasks()[0].id
        self.serializer = BpmnWorkflowSerializer()
        workflow = BpmnWorkflow(self.definition.spec, self.definition.subprocess_specs)
        workflow.task_tree.data.update(START)
        workflow.do_engine_steps()
        self.full_state = self.serializer.serialize_json(workflow)

    def planflow(self) -> str:
        run = ProcessRun.load(self.definition, self.state)
        run.complete(self.task_id, dict(REPORT), replaces=self.fields)
        return run.dump()

    def plain(self) -> str:
        workflow = self.serializer.deserialize_json(self.full_state)
        (ready,) = workflow.get_tasks(state=TaskState.READY, manual=True)
        ready.data.update(REPORT)
        ready.run()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)


def floor(db: Database, fields: list[str], instance_id: int, task_id: str, save: bool) -> None:
    """The least a durable completion costs through planflow: lock the instance row, load it,
    complete, write it back, commit. No user, task lock, authorisation, form or domain records.
    The state alone, or (`save`) through instances.save, which also updates the open tasks."""
    with db.transaction() as s:
        instance = instances.lock(s, instance_id)
        run = instances.load(s, instance)
        run.complete(task_id, dict(REPORT), replaces=fields)
        if save:
            instances.save(s, instance, run)
        else:
            instance.state = run.dump()


def empty_transaction(db: Database) -> None:
    with db.transaction() as s:
        s.execute(text("SELECT 1"))  # a session BEGINs lazily, on its first statement


def measure_inbox(seed: Database, big: Database, n: int, *into: Series) -> None:
    """tasks.inbox for the owner with the most open tasks in the big plan, in both plans."""
    with big.sessions() as s:
        owner = s.scalars(
            select(User.username)
            .join(Activity, Activity.owner_id == User.id)
            .join(OpenTask, OpenTask.activity_id == Activity.id)
            .group_by(User.username)
            .order_by(func.count().desc())
        ).first()
    with seed.sessions() as seed_session, big.sessions() as big_session:
        work = [
            (x, s, people.get_user(s, owner)) for x, s in zip(into, (seed_session, big_session), strict=True)
        ]
        for series, s, user in work:
            everything, page = len(tasks.inbox(s, user, limit=10**9)), len(tasks.inbox(s, user))
            series.label += f" of {owner} ({everything} open tasks, returns {page})"
        for i in range(2 * (n + WARMUP)):  # alternately, in blocks of 20: one plan's calls slow the other's
            series, s, user = work[i // 20 % 2]
            timed(series, tasks.inbox, s, user)


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    raw = Raw()  # also parses the specs, outside any timing
    print("setting up: seed plan, a copy of it for the floor, big plan", flush=True)
    seed, floor_db = (make_database(folder, name, plans.read_plan_document()) for name in ("seed", "floor"))
    big = make_database(folder, "big", big_plan(folder, args.factor))
    big_label = f"{60 * args.factor:,}"
    series = {
        key: Series(label)
        for key, label in {
            "raw": "raw ProcessRun: load + complete + dump",
            "plain": "raw plain SpiffWorkflow: deserialize + complete + serialize (full spec)",
            "empty": "floor: empty write transaction (BEGIN IMMEDIATE, SELECT 1, COMMIT)",
            "floor": "floor: lock + load + complete + state UPDATE + commit",
            "floor_save": "floor: the same, written by instances.save (state + open tasks)",
            "seed_report": "60: report_status (service)",
            "big_report": f"{big_label}: report_status (service)",
            "seed_review": "60: review_report (service)",
            "big_review": f"{big_label}: review_report (service)",
            "closing": "60: review_report that closes its focus area (context)",
            "seed_inbox": "60: tasks.inbox",
            "big_inbox": f"{big_label}: tasks.inbox",
            "seed_start": "60: cycles.start_cycle and open_reports (one batch)",
            "big_start": f"{big_label}: cycles.start_cycle and open_reports (all batches)",
        }.items()
    }
    for key in ("closing", "seed_start", "big_start"):
        series[key].warmup = 0

    gc.collect()
    big_batches = Series(f"{big_label}: cycles.open_reports, one batch (a transaction)", 0)
    big_cycle = timed(series["big_start"], start_cycle, big, "2026-Q4", big_batches)
    big_work = open_tasks(big, big_cycle, "report_status")
    print(f"   {len(big_work):,} activities, cycle started in {series['big_start'].median():.0f} ms")
    spread = [big_work[i * len(big_work) // (60 * args.rounds)] for i in range(60 * args.rounds)]
    periods = (f"{2030 + i // 12}-{i % 12 + 1:02d}" for i in range(1000))
    for round_no in range(args.rounds):
        gc.collect()
        seed_cycle = timed(series["seed_start"], start_cycle, seed, next(periods))
        floor_work = open_tasks(floor_db, start_cycle(floor_db, next(periods)), "report_status")
        if round_no == 0:
            measure_inbox(seed, big, 100 if args.quick else 400, series["seed_inbox"], series["big_inbox"])
        reports = open_tasks(seed, seed_cycle, "report_status")
        big_reports = spread[round_no :: args.rounds]  # every round samples the whole big plan
        # One of each, task by task, so that whatever else the machine does hits every series alike.
        for i, ((task, user, _), (big_task, big_user, _), (f_task, _, f_instance)) in enumerate(
            zip(reports, big_reports, floor_work, strict=True)
        ):
            timed(series["seed_report"], complete, seed, user, task, REPORT)
            timed(series["big_report"], complete, big, big_user, big_task, REPORT)
            kind = "floor_save" if i % 2 else "floor"
            timed(series[kind], floor, floor_db, raw.fields, f_instance, f_task, kind == "floor_save")
            timed(series["empty"], empty_transaction, floor_db)
            for _ in range(2):
                timed(series["raw"], raw.planflow)
                timed(series["plain"], raw.plain)
        reviews = open_tasks(seed, seed_cycle, "review_report")
        closes = {user: task for task, user, _ in reviews}  # an area's last review completes it
        big_reviews = open_tasks(big, big_cycle, "review_report")
        for (task, user, _), (big_task, big_user, _) in zip(reviews, big_reviews, strict=True):
            kind = "closing" if closes[user] == task else "seed_review"
            timed(series[kind], complete, seed, user, task, REVIEW)
            timed(series["big_review"], complete, big, big_user, big_task, REVIEW)
        print(f"   round {round_no + 1}/{args.rounds} done", flush=True)

    # One more seed cycle, untimed: the SQL of one completion of each kind, then a profile.
    cycle_id = start_cycle(seed, next(periods))
    sql = {}
    for name, data in (("report_status", REPORT), ("review_report", REVIEW)):
        task, user, _ = open_tasks(seed, cycle_id, name)[0]
        SQL.clear()
        complete(seed, user, task, data)
        sql[name] = list(SQL)
    profiled, profiler = open_tasks(seed, cycle_id, "report_status")[:40], cProfile.Profile()
    profiler.enable()
    for task, user, _ in profiled:
        complete(seed, user, task, REPORT)
    profiler.disable()
    for db in (seed, floor_db, big):
        db.dispose()
    series["big_batches"] = big_batches
    print(f"at scale: a plan of {60 * args.scale:,} activities", flush=True)
    scale = opening_at_scale(folder, args.scale)
    series["scale_batches"], series["scale_fires"] = scale["batches"], scale["fires"]
    sizes = len(raw.state.encode()), len(raw.full_state.encode())
    return {
        "series": series,
        "big": big_label,
        "sizes": sizes,
        "sql": sql,
        "profile": profile_text(profiler, len(profiled)),
        "scale": scale,
    }


def profile_text(profiler: cProfile.Profile, n: int) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(10)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    keep = [line for line in lines if line and not line.startswith(("   Ordered by", "   List reduced"))]
    return f"{n} completions under cProfile\n" + "\n".join(keep)


def gist(statement: str) -> str:
    """'SELECT user by username', 'INSERT audit_event', 'BEGIN IMMEDIATE': verb, table, first condition."""
    table = re.search(r"\b(?:FROM|INTO|UPDATE) \"?(\w+)", statement)
    where = re.search(r"\bWHERE (?:\? = )?\"?\w+\"?\.(\w+)", statement)
    if table is None:
        return " ".join(statement.split()[:2])
    return f"{statement.split()[0]} {table[1]}" + (f" by {where[1]}" if where else "")


def ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def p90(series: Series) -> str:
    return ms(series.p90()) if len(series.times) >= 10 else ""


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


def machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "unknown")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("SQLAlchemy", "SpiffWorkflow"))
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- nproc: {os.cpu_count()}; CPU: {cpu}",
        f"- Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; {versions}",
    ]


def report(r: dict[str, Any], args: argparse.Namespace, info: list[str]) -> str:
    s, big, (by_ref, full) = r["series"], r["big"], r["sizes"]
    med = {key: x.median() for key, x in s.items()}
    sql = {key: statistics.median(x.statements) for key, x in s.items()}
    checks = [
        ("(a) 60: report_status, service ÷ raw ProcessRun", "seed_report", "raw", SERVICE_VS_RAW),
        (f"(b) report_status, {big} ÷ 60", "big_report", "seed_report", BIG_VS_SEED),
        (f"(b) review_report, {big} ÷ 60", "big_review", "seed_review", BIG_VS_SEED),
    ]
    ratio = {a: med[a] / med[b] for _, a, b, _ in checks}
    ok = {a: verdict(ratio[a], t) for _, a, _, t in checks}
    service, raw, bare, saved = med["seed_report"], med["raw"], med["floor"], med["floor_save"]
    over = ratio["seed_report"] / SERVICE_VS_RAW
    reach = "So trimming planflow's domain work alone cannot meet the target: the bare floor is over it."
    if bare / raw <= SERVICE_VS_RAW:
        reach = "So the target is reachable in principle: the gap is planflow's own work."
    row = "| {} | {} | {} | {} | {} |"

    def longest(key: str) -> str:
        return ms(max(s[key].times) / 1e6)

    lines = [
        "# planflow benchmark: task completion",
        "",
        f"Generated by `benchmarks/run.py{' --quick' * args.quick}`; do not edit by hand, rerun it.",
        "",
        "## Machine",
        "",
        *info,
        "",
        "## Method",
        "",
        f"- One process, SQLite files in a temp folder, set up by planflow. {args.rounds} rounds, each on"
        " a new cycle of the seed plan: task by task, a `report_status` completion in the 60 plan, one in"
        f" the {big} plan (activities repeated {args.factor}×, tasks spread over it), a floor completion, an"
        " empty transaction, 2 × each raw variant; then the `review_report`s of both plans, alternately.",
        "- Service = `with db.transaction() as s: tasks.complete_task(s, people.get_user(s, user), task_id,"
        " data)`, commit included. Raw = `ProcessRun.load`, `run.complete`, `run.dump`; plain = SpiffWorkflow"
        " with its default serializer. Floor = `instances.lock`, `instances.load`, `run.complete`, write,"
        " commit.",
        f"- The first {WARMUP} samples of each series are dropped. SQL statements are counted by a"
        " `before_cursor_execute` listener: it sees `BEGIN IMMEDIATE`, not the COMMIT. See README.md.",
        "",
        "## Results",
        "",
        row.format("operation", "n", "median ms", "p90 ms", "SQL statements"),
        "|---|---:|---:|---:|---:|",
        *(
            row.format(x.label, len(x.times), ms(x.median()), p90(x), f"{sql[k]:g}" if sql[k] else "")
            for k, x in s.items()
        ),
        "",
        f"State of a just-started `activity_report`: {by_ref:,} B with the spec by reference (planflow),"
        f" {full:,} B with the full spec (SpiffWorkflow's default serializer).",
        "",
        "## Targets",
        "",
        "| check | median ratio | p90 ratio | target | verdict (median) |",
        "|---|---:|---:|---:|---|",
        *(
            f"| {label} | {ratio[a]:.2f}× | {s[a].p90() / s[b].p90():.2f}× | ≤ {t}× | **{ok[a]}** |"
            for label, a, b, t in checks
        ),
        "",
        "## Interpretation",
        "",
        f"- **(a) {ok['seed_report']}**: a completion takes {ms(service)} ms at service level,"
        f" {ratio['seed_report']:.1f}× the {ms(raw)} ms of raw engine work ({over:.1f}× the target); the"
        f" engine work is {raw / service:.0%} of it.",
        f"- Floor: raw work plus an empty write transaction is already {(raw + med['empty']) / raw:.1f}×"
        f" raw; lock + load + complete + state UPDATE + commit is {bare / raw:.1f}× ({sql['floor']:g}"
        f" statements), through instances.save {saved / raw:.1f}× ({sql['floor_save']:g}). {reach} Above"
        f" that the service adds {ms(service - saved)} ms and {sql['seed_report'] - sql['floor_save']:g}"
        " statements: user, task lock, authorisation, form, status report and audit event.",
        f"- **(b)** report_status {ok['big_report']} ({ratio['big_report']:.2f}×), review_report"
        f" {ok['big_review']} ({ratio['big_review']:.2f}×); statements per completion {sql['seed_report']:g}"
        f" → {sql['big_report']:g} and {sql['seed_review']:g} → {sql['big_review']:g}.",
        f"- Short transactions: opening a cycle of {big} activities took {med['big_start'] / 1e3:.1f} s in"
        f" {len(s['big_batches'].times)} transactions, the longest {longest('big_batches')} ms."
        f" At {r['scale']['activities']:,} activities (plan loaded in {r['scale']['load_s']:.0f} s):"
        " opened in"
        f" {r['scale']['open_s']:.0f} s, {len(s['scale_batches'].times)} transactions, median"
        f" {ms(s['scale_batches'].median())} ms, longest {longest('scale_batches')} ms"
        f" (target: none over about 500 ms); {r['scale']['fired']} escalation timers fired one instance per"
        f" transaction, longest {longest('scale_fires')} ms. The spec by reference makes the"
        f" state {1 - by_ref / full:.0%} smaller than SpiffWorkflow's default.",
        "",
        "## SQL of one completion (60 plan, in order)",
        "",
        *(f"- {name} ({len(x)}): " + "; ".join(gist(y) for y in x) for name, x in r["sql"].items()),
        "",
        "## Profile: 60 plan, report_status via the service (top 10 by own time)",
        "",
        "```",
        r["profile"],
        "```",
        "",
    ]
    for label, a, _, _ in checks:
        print(f"   {ok[a]}  {ratio[a]:.2f}×  {label}")
    return "\n".join(lines)


def kept_sections(path: Path) -> str:
    """Other benchmarks' sections of the results file (between `<!-- begin NAME -->` and
    `<!-- end NAME -->`), kept as they are when this one rewrites its own part."""
    if not path.exists():
        return ""
    found = re.findall(r"<!-- begin ([\w-]+) -->.*?<!-- end \1 -->", path.read_text(encoding="utf-8"), re.S)
    text = path.read_text(encoding="utf-8")
    blocks = [re.search(rf"<!-- begin {name} -->.*?<!-- end {name} -->", text, re.S) for name in found]
    return "".join("\n" + block.group(0) + "\n" for block in blocks if block)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark planflow's task completion.")
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 20, a smoke test")
    parser.add_argument("--rounds", type=int, help="rounds of 60 completions of each kind")
    parser.add_argument("--factor", type=int, default=100, help="big plan: activities per seed activity")
    parser.add_argument(
        "--scale", type=int, default=500, help="plan for short transactions: activities per seed activity"
    )
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 20)
    start, load = time.perf_counter(), os.getloadavg()[0]
    info = machine()
    with tempfile.TemporaryDirectory(prefix="planflow-bench-") as folder:
        results = run(args, Path(folder))
    took = time.perf_counter() - start
    info.append(
        f"- load average (1 min) at start / end: {load:.2f} / {os.getloadavg()[0]:.2f}; run {took:.0f} s"
    )
    args.output.write_text(report(results, args, info) + kept_sections(args.output), encoding="utf-8")
    print(f"wrote {args.output} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
