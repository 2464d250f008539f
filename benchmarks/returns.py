"""Benchmark of a loop run again and again: a report returned by its focus-area lead, and a
deviation's recommendation returned by the lead, 1, 10, 50, 200 and 1,000 times; completion time
and stored state against fresh instances measured at the same point of the run, with the history
pruned (planflow now) and kept whole (as before). Writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/returns.py           # about three minutes on 2 cores
    .venv/bin/python benchmarks/returns.py --quick   # under a minute: to 200 returns, one instance each

Everything runs in one process against an SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import select

from planflow import clock, migrate
from planflow.db import Database
from planflow.engine import ProcessRun
from planflow.models import Activity, OpenTask, ProcessInstance, User
from planflow.services.chain import cycles, tasks
from planflow.services.plan import demo, plans
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR, Actor
from planflow.services.errors import Conflict

SECTION = "returns"
CHECKPOINTS = (1, 10, 50, 200, 1000)
STOPPED_AT = 250  # the return at which an unpruned report instance used to stop
TARGET = 1.2  # time and state after N returns, each ÷ a fresh instance's
NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
WALL, CPU = 0, 1  # the two clocks of a timing
STARTED = time.time()


@dataclass(frozen=True)
class Loop:
    """A task given back again and again: `first` done, then `second` gives it back."""

    name: str
    first: str
    first_data: dict[str, Any]
    second: str
    give_back: dict[str, Any]


REPORT = Loop(
    "report",
    "report_status",
    {"status": "yellow", "cause": "Lokalerna är inte klara.", "comment": "Se orsaken."},
    "review_report",
    {"outcome": "return", "comment": "Ange ny tidplan."},
)
RECOMMENDATION = Loop(
    "recommendation",
    "draft_recommendation",
    {"recommendation": "Flytta starten till nästa kvartal."},
    "agree_recommendation",
    {"outcome": "return", "comment": "Ta med lärosätena."},
)


@dataclass
class Subject:
    """One instance under test, who does its two tasks, and whether its history is pruned."""

    instance_id: int
    first_user: str
    second_user: str
    pruned: bool
    returns: int = 0


@contextmanager
def pruning(on: bool) -> Iterator[None]:
    """Run with the engine's pruning on or off: off is SpiffWorkflow's whole history, as stored
    before pruning (the check that refuses a stuck step stays on)."""
    before = ProcessRun.prunes_history
    ProcessRun.prunes_history = on
    try:
        yield
    finally:
        ProcessRun.prunes_history = before


def prepare(url: str) -> Database:
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.transaction() as s:
        plans.load_plan(s, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(s)
        leader = Actor(people.get_user(s, "processledare"))
        cycle_id = cycles.start_cycle(s, leader, "2026-Q4", date(2026, 12, 15)).id
    cycles.open_all(db.transaction, cycle_id)
    return db


def open_task(db: Database, instance_id: int, name: str) -> str:
    with db.transaction() as s:
        return s.scalars(
            select(OpenTask.id).where(OpenTask.instance_id == instance_id, OpenTask.name == name)
        ).one()


Took = tuple[float, float]  # milliseconds: wall clock, and this process's CPU (user + system)


def complete(db: Database, username: str, task_id: str, data: dict[str, Any]) -> Took:
    """One completion as the web layer makes it, commit included."""
    wall, cpu = time.perf_counter(), time.process_time()
    with db.transaction() as s:
        tasks.complete_task(s, people.get_user(s, username), task_id, data)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def report_instances(db: Database) -> Iterator[tuple[int, str, str]]:
    """Each activity's report instance, its owner and its focus-area lead, in plan order."""
    with db.transaction() as s:
        rows = s.execute(
            select(OpenTask.instance_id, Activity.code, User.username)
            .join(Activity, Activity.id == OpenTask.activity_id)
            .join(User, User.id == Activity.owner_id)
            .where(OpenTask.name == "report_status")
            .order_by(Activity.id)
        ).all()
    for instance_id, code, owner in rows:
        yield instance_id, owner, f"lead{code.split('.')[0]}"


def new_subject(
    db: Database, loop: Loop, activities: Iterator[tuple[int, str, str]], pruned: bool
) -> Subject:
    """A fresh instance of the loop's process on an activity nobody has touched yet. A deviation
    is opened the way the chain opens one: a yellow report with a cause, accepted by the lead."""
    instance_id, owner, lead = next(activities)
    if loop is REPORT:
        return Subject(instance_id, owner, lead, pruned)
    with pruning(pruned):
        complete(db, owner, open_task(db, instance_id, "report_status"), REPORT.first_data)
        complete(db, lead, open_task(db, instance_id, "review_report"), {"outcome": "accept"})
    with db.transaction() as s:
        report = s.get(ProcessInstance, instance_id)
        assert report is not None
        deviation_instance = s.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.process_id == "deviation", ProcessInstance.activity_id == report.activity_id
            )
        ).one()
    return Subject(deviation_instance, "processledare", lead, pruned)


def one_round(db: Database, loop: Loop, subject: Subject) -> Took:
    """The loop once: the first task done, then given back; both completions' time together."""
    with pruning(subject.pruned):
        done = complete(
            db, subject.first_user, open_task(db, subject.instance_id, loop.first), loop.first_data
        )
        back = complete(
            db, subject.second_user, open_task(db, subject.instance_id, loop.second), loop.give_back
        )
    subject.returns += 1
    return done[0] + back[0], done[1] + back[1]


def state_of(db: Database, subject: Subject) -> tuple[int, int]:
    """The stored state's size in bytes and its number of tasks, sub-processes included."""
    with db.transaction() as s:
        instance = s.get(ProcessInstance, subject.instance_id)
        assert instance is not None
        state = instance.state
    stored = json.loads(state)
    count = len(stored["tasks"]) + sum(len(sub["tasks"]) for sub in stored["subprocesses"].values())
    return len(state.encode("utf-8")), count


@dataclass
class Row:
    loop: str
    returns: int
    pruned: bool
    state: float  # bytes, median over the subjects
    tasks: float
    rounds: list[Took]  # per round (both completions)
    fresh_state: float
    fresh_tasks: float
    fresh_rounds: list[Took]

    def ratio(self, clock: int) -> float:
        """Median time ÷ the fresh instances' median, by wall clock (0) or CPU time (1)."""
        return statistics.median(t[clock] for t in self.rounds) / statistics.median(
            t[clock] for t in self.fresh_rounds
        )

    @property
    def passes(self) -> bool:
        return self.ratio(CPU) <= TARGET and self.state_ratio <= TARGET

    @property
    def state_ratio(self) -> float:
        return self.state / self.fresh_state


def measure(
    db: Database,
    loop: Loop,
    activities: Iterator[tuple[int, str, str]],
    checkpoints: tuple[int, ...],
    repeats: int,
    window: int,
    unpruned_to: int,
) -> tuple[list[Row], str]:
    """Bring `repeats` pruned instances and one unpruned instance to each checkpoint (the unpruned
    one only up to `unpruned_to`, its rounds cost the most), note their stored state, then time
    `window` rounds of each, interleaved with `window` rounds of `repeats` fresh instances opened
    at that point."""
    subjects = [new_subject(db, loop, activities, True) for _ in range(repeats)]
    subjects.append(new_subject(db, loop, activities, False))
    kept_whole = [s for s in subjects if not s.pruned]
    rows = []
    for checkpoint in checkpoints:
        subjects = [s for s in subjects if s.pruned or checkpoint <= unpruned_to]
        for subject in subjects:
            while subject.returns < checkpoint:
                one_round(db, loop, subject)
        fresh = [new_subject(db, loop, activities, True) for _ in range(repeats)]
        states = {id(s): state_of(db, s) for s in subjects + fresh}
        rounds: dict[int, list[Took]] = {id(s): [] for s in subjects + fresh}
        for _ in range(window):
            for subject in subjects + fresh:
                rounds[id(subject)].append(one_round(db, loop, subject))
        fresh_rounds = [took for s in fresh for took in rounds[id(s)]]
        for pruned in (True, False):
            group = [s for s in subjects if s.pruned is pruned]
            if group:
                rows.append(
                    Row(
                        loop.name,
                        checkpoint,
                        pruned,
                        statistics.median(states[id(s)][0] for s in group),
                        statistics.median(states[id(s)][1] for s in group),
                        [took for s in group for took in rounds[id(s)]],
                        statistics.median(states[id(s)][0] for s in fresh),
                        statistics.median(states[id(s)][1] for s in fresh),
                        fresh_rounds,
                    )
                )
        print(f"{loop.name}: {checkpoint} returns measured, {time.time() - STARTED:.0f} s", flush=True)
    return rows, stop_without_pruning(db, loop, kept_whole[0]) if unpruned_to >= 200 else ""


def stop_without_pruning(db: Database, loop: Loop, subject: Subject) -> str:
    """Take an unpruned instance on towards its 250th return, and say where and how it stopped."""
    try:
        while subject.returns < STOPPED_AT:
            one_round(db, loop, subject)
    except Conflict as refused:
        return f"return {subject.returns + 1} refused: `{refused.code}` ({refused.params['reason']})"
    return f"{subject.returns} returns went through"


def spread(times: list[Took], clock: int) -> str:
    values = [t[clock] for t in times]
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| loop | returns | history | state B (fresh) | tasks (fresh) "
        "| CPU ms a round, median (min–max) | fresh | wall ms a round, median (min–max) | fresh "
        "| time ÷ fresh, CPU (wall) | state ÷ fresh | ≤ 1.2× |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        verdict = "PASS" if row.passes else "MISS"
        lines.append(
            f"| {row.loop} | {row.returns:,} | {'pruned' if row.pruned else 'kept whole (before)'} "
            f"| {row.state:,.0f} ({row.fresh_state:,.0f}) | {row.tasks:.0f} ({row.fresh_tasks:.0f}) "
            f"| {spread(row.rounds, CPU)} | {spread(row.fresh_rounds, CPU)} "
            f"| {spread(row.rounds, WALL)} | {spread(row.fresh_rounds, WALL)} "
            f"| {row.ratio(CPU):.2f}× ({row.ratio(WALL):.2f}×) | {row.state_ratio:.2f}× "
            f"| {'**' + verdict + '**' if row.pruned else verdict} |"
        )
    return lines


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "?",
    )
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    return (
        f"nproc: {os.cpu_count()}; CPU: {cpu}; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; SpiffWorkflow {metadata.version('SpiffWorkflow')}; "
        f"working tree of commit {commit}"
    )


def method(repeats: int, window: int, unpruned_to: int) -> list[str]:
    return [
        "- One process, SQLite in a temporary folder, the seed plan with a cycle opened. A *round* is "
        "the loop once, each completion as the web layer makes it (`with db.transaction() as s: "
        "tasks.complete_task(...)`, commit included): the owner reports (yellow, with a cause) and "
        "the lead returns the report; or the process leader drafts a recommendation for a yellow "
        "deviation and the lead returns it.",
        f"- At each checkpoint, {repeats} instance(s) with the history pruned and one kept whole, "
        "brought there by rounds through the services: their stored state (bytes; tasks, "
        f"sub-process included; median over the instances), then {window} timed rounds of each, "
        f"interleaved with {window} rounds of "
        f"{repeats} *fresh* instance(s) opened at that point, in the same database at the same "
        "moment (their state is taken before their first round). Ratios: median ÷ the fresh median "
        "of the same checkpoint.",
        "- Time is this process's CPU time (user + system, `time.process_time`) and the wall clock. "
        "The verdict reads CPU time: the machine is shared, and wall time also counts waiting for "
        "other people's processes, which a loop's history does not change; what the history "
        "changes (parsing, walking and writing the state) is CPU work in this process, SQLite's "
        "included.",
        "- *pruned*: planflow now. *kept whole (before)*: `ProcessRun.prunes_history = False`, "
        "SpiffWorkflow's whole task tree as planflow stored it before; only the check that refuses "
        f"a stuck step differs from the code before. Kept whole, the instance goes to {unpruned_to} "
        "returns" + (", then on until it stops." if unpruned_to >= 200 else "."),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="up to 200 returns, one instance of each kind")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    checkpoints = CHECKPOINTS[:-1] if args.quick else CHECKPOINTS
    repeats, window, unpruned_to = (1, 5, 50) if args.quick else (2, 5, 200)
    clock.set_now(NOW)
    rows: list[Row] = []
    stops: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        db = prepare(f"sqlite:///{folder}/returns.sqlite3")
        try:
            activities = report_instances(db)
            for loop in (REPORT, RECOMMENDATION):
                found, stops[loop.name] = measure(
                    db, loop, activities, checkpoints, repeats, window, unpruned_to
                )
                rows += found
        finally:
            db.dispose()
    pruned = [row for row in rows if row.pruned]
    passed = sum(row.passes for row in pruned)
    section = "\n".join(
        [
            f"<!-- begin {SECTION} -->",
            "## Returned again and again (`benchmarks/returns.py`)",
            "",
            "Generated by `benchmarks/returns.py`; rerun it to refresh this section.",
            "",
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}; load average "
            f"(1 min) at end: {os.getloadavg()[0]:.2f}; run {time.time() - STARTED:.0f} s"
            f"{'; `--quick`' if args.quick else ''}",
            *method(repeats, window, unpruned_to),
            "",
            *table(rows),
            "",
            f"Target: after {', '.join(f'{n:,}' for n in checkpoints)} returns, completion time and "
            f"stored state ≤ {TARGET}× a fresh instance's. Pruned: {passed} of {len(pruned)} PASS.",
            *(
                f"- Kept whole, the {name}: {stop}; before, that return answered 200 and left the "
                "instance running with nothing open."
                for name, stop in stops.items()
                if stop
            ),
            f"<!-- end {SECTION} -->",
        ]
    )
    # Only this section is replaced: the others belong to run.py, api.py, scheduler.py and web.py.
    text = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    pattern = re.compile(rf"<!-- begin {SECTION} -->.*?<!-- end {SECTION} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
