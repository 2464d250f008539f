"""What a child process of the crash test (tests/test_crash.py) does: one kind of work in a loop on
the test's database, as the web front end and the scheduler would do it, telling the parent over a
pipe where it is, until the parent SIGKILLs it or the work runs out.

What it tells (tuples): ("ready",) once connected; ("begin",) when a writing transaction starts;
("tx", n) just before the n-th commit, everything flushed, and then, with `handshake`, it waits for
the parent's "go", so that a kill there lands with every change written and none committed;
("end",) after a commit or a rollback; ("done", what, details) after a unit of work committed;
("error", text) when something failed that must not; ("idle",) when no work is left.
"""

from __future__ import annotations

import logging
import os
import random
import traceback
from collections.abc import Callable
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session, SessionTransaction

from planflow import clock
from planflow.db import Database
from planflow.models import (
    Activity,
    OpenTask,
    Plan,
    ReportingCycle,
    ReviewOutcome,
    Role,
    RoleAssignment,
    StatusReport,
    User,
)
from planflow.services.authority import access, people
from planflow.services.chain import cycles, tasks, timers
from planflow.services.outputs import mailer
from planflow.services.records import audit
from planflow.services.records.audit import Actor

PERIOD = "2026-Q4"
DEADLINE = date(2027, 6, 30)  # far enough that no child's clock passes it
ESCALATION_DAYS = 1  # a deviation left undecided escalates a day later: timers come due in the run
CRASH_PLANS = "crash-"  # the slugs of the plans the test adds for openings to open
OPEN_LIMIT = 20  # reports per opening batch: the test's 60-activity plans open in three
# The tasks a completing child takes, and how often it picks each kind (of those open).
TASK_WEIGHTS = {
    "report_status": 3,
    "review_report": 4,
    "draft_recommendation": 2,
    "agree_recommendation": 2,
    "steering_decision": 3,
}


class Pipe:
    """The child's end of the pipe, and the hooks that report its transactions."""

    def __init__(self, connection: Connection, handshake: bool) -> None:
        self.connection, self.handshake, self.commits = connection, handshake, 0

    def tell(self, *message: Any) -> None:
        self.connection.send(message)

    # SQLAlchemy calls the begin and commit hooks for savepoints too: only the database's own
    # transaction counts here (a savepoint's release commits nothing).

    def after_begin(self, session: Session, transaction: SessionTransaction, _connection: Any) -> None:
        if not transaction.nested:
            self.tell("begin")

    def before_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        audit.chain_pending(session)  # the events too: whichever before_commit hook runs first
        session.flush()
        self.commits += 1
        self.tell("tx", self.commits)
        if self.handshake:
            self.connection.recv()  # the parent's "go", unless it kills us here

    def after_commit(self, session: Session) -> None:
        if not session.in_nested_transaction():
            self.tell("end")

    def watch(self, database: Database) -> None:
        sessions = database.sessions  # writing transactions only: reading() has its own factory
        event.listen(sessions, "after_begin", self.after_begin)
        event.listen(sessions, "before_commit", self.before_commit)
        event.listen(sessions, "after_commit", self.after_commit)
        event.listen(sessions, "after_rollback", lambda _: self.tell("end"))


class _Errors(logging.Handler):
    """planflow logs what it skips (a timer that could not fire…): here, that is a failure."""

    def __init__(self, pipe: Pipe) -> None:
        super().__init__(logging.ERROR)
        self.pipe = pipe

    def emit(self, record: logging.LogRecord) -> None:
        self.pipe.tell("error", self.format(record))


def main(
    connection: Connection,
    url: str,
    kind: str,
    now: datetime,
    seed: int,
    handshake: bool,
    smtp_port: int,
) -> None:
    clock.set_now(now)
    pipe = Pipe(connection, handshake)
    logging.getLogger("planflow").addHandler(_Errors(pipe))
    database = Database(url)
    pipe.watch(database)
    try:
        pipe.tell("ready")
        WORK[kind](database, random.Random(seed), pipe, smtp_port)
        pipe.tell("idle")
    except BaseException:
        pipe.tell("error", traceback.format_exc())
        raise
    finally:
        database.dispose()


# ---- completions -------------------------------------------------------------------------------


def complete_tasks(database: Database, rnd: random.Random, pipe: Pipe, _port: int) -> None:
    """Owners report (green, yellow, red), leads accept or return; deviations are drafted, agreed
    or returned, and decided (approve, reprioritise, close, return) by the steering group's chair."""
    while True:
        with database.reading() as session:
            open_tasks = session.execute(
                select(OpenTask.id, OpenTask.name)
                .where(OpenTask.name.in_(TASK_WEIGHTS))
                .order_by(OpenTask.id)
            ).all()
        if not open_tasks:
            return
        names = sorted({name for _, name in open_tasks})
        name = rnd.choices(names, [TASK_WEIGHTS[n] for n in names])[0]
        task_id = rnd.choice([task for task, n in open_tasks if n == name])
        with database.transaction() as session:
            task = session.get(OpenTask, task_id)
            assert task is not None
            data, details = _answer(session, rnd, task)
            tasks.complete_task(session, _actor(session, task), task_id, data)
        pipe.tell("done", name, {"task": task_id, **details})


def _actor(session: Session, task: OpenTask) -> User:
    """Someone who may complete the task: its activity's owner, its area's lead, the role's holder."""
    if task.lane == "activity_owner":
        activity = session.get(Activity, task.activity_id)
        assert activity is not None and activity.owner is not None
        return activity.owner
    if task.lane == "focus_area_lead":
        lead = session.scalar(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.role == Role.FOCUS_AREA_LEAD,
                RoleAssignment.focus_area_id == task.focus_area_id,
            )
            .limit(1)
        )
        assert lead is not None
        return lead
    role = {"process_leader": Role.PROCESS_LEADER, "steering_group": Role.STEERING_CHAIR}[task.lane]
    return access.holders(session, role)[0]


def _answer(session: Session, rnd: random.Random, task: OpenTask) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form data for the task, and what the parent checks afterwards."""
    if task.name == "report_status":
        status = rnd.choice(["green", "green", "yellow", "red", "red"])
        data = {"status": status, "comment": "Rapport från kraschtestet."}
        if status != "green":
            data["cause"] = "Resursbrist."
        return data, {"status": status}
    if task.name == "review_report":
        report = session.scalar(
            select(StatusReport.id).where(
                StatusReport.cycle_id == task.cycle_id,
                StatusReport.activity_id == task.activity_id,
                StatusReport.review == ReviewOutcome.PENDING,
            )
        )
        if rnd.random() < 0.8:
            return {"outcome": "accept"}, {"report": report, "outcome": "accepted"}
        return {"outcome": "return", "comment": "Komplettera."}, {"report": report, "outcome": "returned"}
    if task.name == "draft_recommendation":
        return {"recommendation": "Förstärk bemanningen."}, {}
    if task.name == "agree_recommendation":
        if rnd.random() < 0.8:
            return {"outcome": "agree"}, {}
        return {"outcome": "return", "comment": "Tänk om."}, {}
    decision = rnd.choice(["approve", "approve", "reprioritise", "close", "return"])
    return {"decision": decision, "rationale": "Styrgruppens bedömning."}, {"decision": decision}


# ---- timers ------------------------------------------------------------------------------------


def fire_timers(database: Database, rnd: random.Random, pipe: Pipe, _port: int) -> None:
    """What the scheduler's fire_due_timers job does, one instance per call (so each firing is
    told): a transaction that reads what is due, then one that fires it."""
    while fired := timers.fire_due_timers(database.transaction, clock.now(), limit=1):
        pipe.tell("done", "timers", {"fired": fired})


# ---- openings ----------------------------------------------------------------------------------


def open_cycles(database: Database, rnd: random.Random, pipe: Pipe, _port: int) -> None:
    """Finish any opening that stopped, then start a cycle of each plan the test added that has
    none yet and open it, batch by batch, as the scheduler's open_cycles job would."""
    with database.reading() as session:
        unfinished = cycles.opening(session)
    for cycle_id in unfinished:
        _open(database, pipe, cycle_id)
    while True:
        with database.transaction() as session:
            slug = session.scalar(
                select(Plan.slug)
                .where(
                    Plan.slug.startswith(CRASH_PLANS),
                    ~exists().where(ReportingCycle.plan_id == Plan.id),
                )
                .order_by(Plan.id)
                .limit(1)
            )
            if slug is None:
                return
            leader = Actor(people.get_user(session, "processledare"))
            cycle_id = cycles.start_cycle(session, leader, PERIOD, DEADLINE, ESCALATION_DAYS, slug).id
        pipe.tell("done", "started", {"cycle": cycle_id, "plan": slug})
        _open(database, pipe, cycle_id)


def _open(database: Database, pipe: Pipe, cycle_id: int) -> None:
    while True:
        with database.transaction() as session:
            started = cycles.open_reports(session, cycle_id, OPEN_LIMIT)
        if not started:
            pipe.tell("done", "opened", {"cycle": cycle_id})
            return
        pipe.tell("done", "batch", {"cycle": cycle_id, "reports": started})


# ---- mail --------------------------------------------------------------------------------------


def sender_id(pid: int) -> str:
    """The sender name a child's mail carries (X-Planflow-Sender), so the test knows whose it is."""
    return f"crash:{pid}"


def deliver_mail(database: Database, rnd: random.Random, pipe: Pipe, port: int) -> None:
    """What the scheduler's deliver_mail job does: claim a batch, send it, mark each sent."""
    smtp = mailer.SmtpSettings(host="127.0.0.1", port=port, sender="planflow@crash.invalid")
    rules = mailer.DeliveryRules(batch=5, lease_seconds=600)
    while True:
        counts = mailer.deliver(
            database.transaction, database.reading, smtp, rules, sender_id(os.getpid()), max_batches=1
        )
        if counts["mails_failed"]:
            raise RuntimeError(f"the test's SMTP server refused mail: {counts}")
        if not counts["mails_sent"]:
            return
        pipe.tell("done", "mail", {"sent": counts["mails_sent"]})


WORK: dict[str, Callable[[Database, random.Random, Pipe, int], None]] = {
    "completions": complete_tasks,
    "timers": fire_timers,
    "openings": open_cycles,
    "mail": deliver_mail,
}
