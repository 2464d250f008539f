"""Crash consistency: child processes doing real work (completions, timer firings, cycle openings,
mail delivery; tests/crashdriver.py) SIGKILLed at random moments and inside their transactions,
one after another, on SQLite and on PostgreSQL. After every kill every rule of
services.consistency holds (a cycle whose opener was killed is finished by opening it again); at
the end every completion a child saw committed is there once, and no mail went out twice but for
the one window SMTP cannot close (services.mailer): a sender killed between the server's 250 and
its mark, whose mail goes again, once, with the same Message-ID.

`make test` runs a bounded version (20 kills per database); PLANFLOW_SOAK=1 runs 200 (`make soak`).
Each run prints what it did: kills, those inside a transaction, checks passed, work done."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.context import ForkServerContext
from typing import Any

import pytest
from sqlalchemy import func, select, update

from planflow import clock
from planflow.db import Database
from planflow.models import (
    Activity,
    Decision,
    Deviation,
    Notice,
    OpenTask,
    PendingTimer,
    Plan,
    ReportingCycle,
    Role,
    StatusReport,
    User,
)
from planflow.services.authority import people
from planflow.services.authority.people import RoleSpec
from planflow.services.chain import cycles, timers
from planflow.services.outputs import mailer, notices
from planflow.services.plan import plans
from planflow.services.records import consistency
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

from . import crashdriver
from .mailserver import MailServer
from .services.chain import Chain

SOAK = os.environ.get("PLANFLOW_SOAK") == "1"
KILLS = 200 if SOAK else 20  # per database
SEED = int(os.environ.get("PLANFLOW_CRASH_SEED", "1102"))
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
STEP = timedelta(hours=2)  # each child's clock runs this much after the one before it
KINDS = tuple(crashdriver.WORK)
# Imported once by the fork server, not by every child (planflow and its engine take ~0.7 s, and
# parsing the workflows 0.1–0.2 s more: tests.crashfork does that there).
PRELOAD = [
    "pytest",
    "sqlalchemy",
    "psycopg",
    "SpiffWorkflow",
    "planflow.services",
    "planflow.db",
    "tests.crashdriver",
]
# The owners the added plans' activities are given, in turn (the demo's).
OWNERS = ["anna.nilsson", "erik.berg", "sara.lind", "omar.haddad", "lena.holm", "johan.ek"]


@pytest.fixture(scope="module")
def forkserver() -> ForkServerContext:
    """Children forked from a server that has imported planflow: each starts in a few ms, and
    shares nothing with the test but the database (and the SMTP server's port)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@dataclass
class Child:
    """One child's run: what it said, and whether it was killed or ran out of work."""

    run: int
    kind: str
    pid: int
    how: str  # where the kill was aimed: "at commit 3" or "after 120 ms"
    messages: list[tuple[Any, ...]]
    killed: bool

    @property
    def last_mark(self) -> str | None:
        marks = [m[0] for m in self.messages if m[0] in ("begin", "tx", "end")]
        return marks[-1] if marks else None

    @property
    def done(self) -> list[tuple[str, dict[str, Any]]]:
        return [(m[1], m[2]) for m in self.messages if m[0] == "done"]

    def describe(self) -> str:
        tail = ", ".join(str(m[:2]) for m in self.messages[-8:])
        state = "killed" if self.killed else "ran out of work"
        return (
            f"run {self.run}: {self.kind} child {self.pid}, kill aimed {self.how}, {state}; it said: … {tail}"
        )


def _aim(kind: str, rnd: random.Random, due_timers: int) -> tuple[int | None, float]:
    """Where to kill a child: at its n-th commit, where it waits for our word (n, 0), or wherever
    it is after a delay (None, seconds). A timer child is killed at a commit before its due timers
    run out, so that the timers last the run: it reads what is due (one commit), fires one
    instance (the next), and so on."""
    if kind == "timers":
        return rnd.randint(2, min(8, 2 * due_timers)), 0.0
    if rnd.random() < 0.5:
        return rnd.randint(1, 8), 0.0
    return None, rnd.uniform(0.005, 0.3)


def _run_child(
    context: ForkServerContext,
    url: str,
    kind: str,
    now: datetime,
    aim: tuple[int | None, float],
    seed: int,
    port: int,
    run: int,
) -> Child:
    """Start a child on `kind` of work and kill it where `aim` says (_aim)."""
    kill_at, delay = aim
    handshake = kill_at is not None
    how = f"at commit {kill_at}" if handshake else f"after {delay * 1000:.0f} ms"
    here, there = context.Pipe()
    args = (there, url, kind, now, seed, handshake, port)
    process = context.Process(target=crashdriver.main, args=args, daemon=True)
    process.start()
    there.close()
    messages: list[tuple[Any, ...]] = []
    started: float | None = None
    try:
        while True:
            timed = started is not None and not handshake
            timeout = max(0.0, (started or 0.0) + delay - time.monotonic()) if timed else 120.0
            if not here.poll(timeout):
                assert timed, f"the {kind} child said nothing for 120 s: {messages[-5:]}"
                os.kill(process.pid, signal.SIGKILL)
                break
            try:
                message = here.recv()
            except EOFError:
                break
            messages.append(message)
            if message[0] == "ready":
                started = time.monotonic()
            elif message[0] == "tx" and handshake:
                if message[1] == kill_at:
                    os.kill(process.pid, signal.SIGKILL)
                    break
                here.send("go")
            elif message[0] in ("idle", "error"):
                break
        process.join(60)
        while here.poll(0):  # what it said before it died
            try:
                messages.append(here.recv())
            except EOFError:
                break
    finally:
        if process.is_alive():
            process.kill()
            process.join(10)
        here.close()
    errors = [m[1] for m in messages if m[0] == "error"]
    assert not errors, f"the {kind} child failed (run {run}):\n{errors[0]}"
    killed = process.exitcode == -signal.SIGKILL
    return Child(run, kind, process.pid or 0, how, messages, killed)


# ---- preparing work ----------------------------------------------------------------------------


def _add_plan(db: Database, number: int) -> None:
    """A plan of 60 activities (5 focus areas × 2 intervention areas × 6), with owners and leads, for
    an opening child to start a cycle of: it opens in three batches and a last call that opens it."""
    slug = f"{crashdriver.CRASH_PLANS}{number}"
    document = {
        "slug": slug,
        "title": f"Kraschplan {number}",
        "organisation": "Kraschtestet",
        "adopted_on": "2026-01-01",
        "strategy_period": {"start": 2026, "end": 2027},
        "source": "tests/test_crash.py",
        "focus_areas": [
            {
                "number": fa,
                "title": f"Fokusområde {fa}",
                "intervention_areas": [
                    {
                        "number": ia,
                        "title": f"Insatsområde {fa}.{ia}",
                        "approach": "Genom att prova.",
                        "activities": [
                            {"number": a, "title": f"Aktivitet {fa}.{ia}.{a}"} for a in range(1, 7)
                        ],
                    }
                    for ia in (1, 2)
                ],
            }
            for fa in range(1, 6)
        ],
    }
    with db.transaction() as session:
        plan = plans.load_plan(session, OPERATOR_ACTOR, document)
        assert plan is not None
        owners = session.scalars(select(User).where(User.username.in_(OWNERS)).order_by(User.id)).all()
        activities = session.scalars(
            select(Activity).where(Activity.plan_id == plan.id).order_by(Activity.id)
        )
        for index, activity in enumerate(activities):
            activity.owner = owners[index % len(owners)]
        for area in range(1, 6):
            lead = people.get_user(session, f"lead{area}")
            people.grant_role(
                session, OPERATOR_ACTOR, lead, RoleSpec(Role.FOCUS_AREA_LEAD, focus_area=area, plan=slug)
            )


def _work_for(kind: str, db: Database, now: datetime, plans_added: list[int]) -> int:
    """How much work a child of `kind` finds now (timers: how many are due); first adds a plan to
    open, or mail to send, when none is left."""
    with db.reading() as session:
        if kind == "timers":
            due = select(func.count()).select_from(PendingTimer).where(PendingTimer.due_at <= now)
            return session.scalar(due) or 0
        if kind == "completions":
            names = list(crashdriver.TASK_WEIGHTS)
            return (
                session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.name.in_(names)))
                or 0
            )
        unopened = session.scalar(
            select(func.count())
            .select_from(Plan)
            .where(
                Plan.slug.startswith(crashdriver.CRASH_PLANS),
                ~select(ReportingCycle.id).where(ReportingCycle.plan_id == Plan.id).exists(),
            )
        )
        due_mail = session.scalar(select(func.count()).select_from(Notice).where(mailer.outbox_due(now))) or 0
    if kind == "openings":
        if not unopened:
            plans_added.append(len(plans_added) + 1)
            _add_plan(db, plans_added[-1])
        return 1
    if due_mail < 30:  # more mail: verbatim notices, mailed at once, to the leads in turn
        with db.transaction() as session:
            leads = [people.get_user(session, f"lead{n}") for n in range(1, 6)]
            first = session.scalar(select(func.count()).select_from(Notice)) or 0
            for n in range(first, first + 40):
                params = {"subject": f"Krasch {n}", "body": "Ett brev från kraschtestet."}
                notices.queue(session, [leads[n % 5]], "notice.verbatim", params, f"crash-{n}")
        due_mail += 40
    return due_mail


# ---- checking ----------------------------------------------------------------------------------


def _problems(db: Database, memo: consistency.Memo | None, opening_allowed: bool) -> list[str]:
    with db.reading() as session:
        if db.url.get_backend_name() == "postgresql":  # one snapshot for every query of the check
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return [str(p) for p in consistency.check(session, memo, opening_allowed)]


# The units of work a child's "done" counts more than one of, and where it says how many.
AMOUNTS = {"timers": "fired", "batch": "reports", "mail": "sent"}


@dataclass
class Tally:
    kills: Counter[str] = field(default_factory=Counter)  # by kind
    inside_transaction: int = 0  # between a transaction's first statement and its commit's return
    at_commit: int = 0  # of those, with every change written, the commit not yet sent
    ran_out: int = 0  # children that finished their work before the kill came
    checks: int = 0
    resumed: int = 0  # openings finished by the test after their opener was killed
    done: Counter[str] = field(default_factory=Counter)  # what children saw committed
    completions: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    opened: set[int] = field(default_factory=set)
    killed_senders: set[str] = field(default_factory=set)

    def add(self, child: Child) -> None:
        if child.killed:
            self.kills[child.kind] += 1
            self.inside_transaction += child.last_mark in ("begin", "tx")
            self.at_commit += child.last_mark == "tx"
            if child.kind == "mail":
                self.killed_senders.add(crashdriver.sender_id(child.pid))
        else:
            self.ran_out += 1
        for what, details in child.done:
            self.done[what] += details[AMOUNTS[what]] if what in AMOUNTS else 1
            if what in crashdriver.TASK_WEIGHTS:
                self.completions.append((child.run, what, details))
            elif what == "opened":
                self.opened.add(details["cycle"])

    @property
    def enough(self) -> bool:
        return sum(self.kills.values()) >= KILLS and min(self.kills[k] for k in KINDS) >= KILLS // 8


def _kind(tally: Tally, run: int, ready: list[str]) -> str:
    """The kind killed least so far among those with work (in turn when tied)."""
    order = {kind: (tally.kills[kind], (KINDS.index(kind) - run) % len(KINDS)) for kind in ready}
    return min(order, key=order.__getitem__)


@pytest.mark.soak
def test_children_killed_anywhere_leave_every_record_consistent(
    seeded: Database, database_url: str, forkserver: ForkServerContext, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = seeded.url.get_backend_name()
    rnd = random.Random(f"{SEED}-{backend}")
    clock.set_now(START - timedelta(days=2))
    with seeded.transaction() as session:
        session.execute(update(User).values(mail_delivery="immediate"))  # every notice is a mail
        leader = Actor(people.get_user(session, "processledare"))
        cycle = cycles.start_cycle(
            session, leader, crashdriver.PERIOD, crashdriver.DEADLINE, crashdriver.ESCALATION_DAYS
        )
    cycles.open_all(seeded.transaction, cycle.id)
    chain = Chain(seeded)
    with seeded.reading() as session:
        default_plan = plans.get_plan(session).id
        codes = session.scalars(
            select(Activity.code).where(Activity.plan_id == default_plan).order_by(Activity.id)
        ).all()
    for code in codes[: max(8, KILLS // 5)]:  # deviations whose timers are due when the children start
        chain.report_and_accept(code, rnd.choice(["red", "yellow"]), cause="Inget händer.")
    plans_added: list[int] = []
    server = MailServer().start()
    tally, memo = Tally(), consistency.Memo()
    run, now = 0, START
    try:
        while not tally.enough:
            assert run < 8 * KILLS, f"{run} children and still not enough kills: {tally.kills}"
            now = START + run * STEP
            clock.set_now(now)
            work = {k: _work_for(k, seeded, now, plans_added) for k in KINDS}
            kind = _kind(tally, run, [k for k in KINDS if work[k]])
            aim = _aim(kind, rnd, work[kind])
            child = _run_child(
                forkserver, database_url, kind, now, aim, rnd.randrange(2**32), server.port, run
            )
            tally.add(child)
            run += 1
            problems = _problems(seeded, memo, opening_allowed=True)
            assert not problems, f"{child.describe()}\n" + "\n".join(problems)
            tally.checks += 1
            with seeded.reading() as session:
                unfinished = cycles.opening(session)
            if unfinished:  # what the scheduler's open_cycles job does next: finish the opening
                for cycle_id in unfinished:
                    cycles.open_all(seeded.transaction, cycle_id)
                tally.resumed += len(unfinished)
                problems = _problems(seeded, memo, opening_allowed=False)
                assert not problems, f"{child.describe()}\nafter opening again:\n" + "\n".join(problems)
                tally.checks += 1

        # The rest of the work, with nobody killed: timers due, then every mail.
        clock.set_now(now + timedelta(days=2))
        finally_fired = timers.fire_due_timers(seeded.transaction, clock.now())
        rules = mailer.DeliveryRules(batch=50, lease_seconds=600)
        smtp = mailer.SmtpSettings(host="127.0.0.1", port=server.port, sender="planflow@crash.invalid")
        while mailer.deliver(seeded.transaction, seeded.reading, smtp, rules, "crash:test")["mails_sent"]:
            pass
    finally:
        server.stop()

    problems = _problems(seeded, None, opening_allowed=False)  # the whole database, from the start
    assert not problems, "\n".join(problems)
    tally.checks += 1
    _committed_completions_are_there_once(seeded, tally)
    resent = _each_mail_went_once_but_after_a_kill_in_the_window(seeded, server, tally)

    with seeded.reading() as session:
        due = select(func.count()).select_from(PendingTimer).where(PendingTimer.due_at <= clock.now())
        assert not session.scalar(due), "timers left due"

        assert (
            set(session.scalars(select(ReportingCycle.id).where(ReportingCycle.id.in_(tally.opened))))
            == tally.opened
        )
        escalated = session.scalar(
            select(func.count()).select_from(Deviation).where(Deviation.escalated_at.is_not(None))
        )
    kills = sum(tally.kills.values())
    done = tally.done
    reviews = sum(1 for _, what, _ in tally.completions if what == "review_report")
    returned = sum(1 for _, what, d in tally.completions if d.get("outcome") == "returned")
    with capsys.disabled():
        print(
            f"\ncrash {backend}: {kills} kills ({', '.join(f'{tally.kills[k]} {k}' for k in KINDS)}); "
            f"{tally.inside_transaction} inside a transaction, {tally.at_commit} of them at the commit with "
            f"every change written; {tally.ran_out} children ran out of work first; "
            f"{tally.checks} consistency checks passed.\n"
            f"  committed and found: {len(tally.completions)} completions ({done['report_status']} reports, "
            f"{reviews} reviews ({returned} returned), {done['steering_decision']} steering decisions, "
            f"{done['draft_recommendation'] + done['agree_recommendation']} other deviation steps); "
            f"{done['timers'] + finally_fired} timers fired ({done['timers']} by children, {escalated} "
            f"escalations in all); {len(tally.opened)} cycles opened by children, {tally.resumed} finished "
            f"after their opener was killed ({done['batch']} reports started by children); "
            f"{len(server.inbox.messages)} mails delivered, {resent} of them again after a kill between the "
            f"server's 250 and the mark; seed {SEED}"
        )


def _committed_completions_are_there_once(db: Database, tally: Tally) -> None:
    """Each task a child saw committed is done, once: its report, its review, its decision."""
    task_ids = [details["task"] for _, _, details in tally.completions]
    assert len(set(task_ids)) == len(task_ids), "a task was completed twice"
    with db.reading() as session:
        for start in range(0, len(task_ids), 500):
            still = session.scalars(select(OpenTask.id).where(OpenTask.id.in_(task_ids[start : start + 500])))
            assert not list(still), "a task a child saw completed is open again"
        reports = Counter(session.scalars(select(StatusReport.task_id)))
        statuses = dict(session.execute(select(StatusReport.task_id, StatusReport.status)).all())
        reviews = dict(session.execute(select(StatusReport.id, StatusReport.review)).all())
        decisions = Counter(session.scalars(select(Decision.task_id)))
        decided = dict(session.execute(select(Decision.task_id, Decision.decision)).all())
    for run, what, details in tally.completions:
        task = details["task"]
        where = f"{what} {task} (run {run})"
        if what == "report_status":
            assert reports[task] == 1 and statuses[task] == details["status"], where
        elif what == "review_report":
            assert reviews[details["report"]] == details["outcome"], where
        elif what == "steering_decision":
            assert decisions[task] == 1 and decided[task] == details["decision"], where


def _each_mail_went_once_but_after_a_kill_in_the_window(
    db: Database, server: MailServer, tally: Tally
) -> int:
    """Every mail notice was delivered; a second copy only from a sender killed after the server
    took the first and before it marked it sent (at most one such copy per killed sender). Returns
    how many copies went again."""
    with db.reading() as session:
        mail = dict(
            session.execute(
                select(Notice.id, Notice.sent_at).where(
                    Notice.channel == "mail", Notice.next_attempt_at.is_not(None)
                )
            ).all()
        )
    assert mail and all(sent is not None for sent in mail.values()), "mail left unsent"
    senders: dict[str, list[str]] = defaultdict(list)
    for message in server.inbox.messages:
        senders[str(message["Message-ID"])].append(str(message["X-Planflow-Sender"]))
    notice_of = {str(m["Message-ID"]): int(str(m["X-Planflow-Notice"])) for m in server.inbox.messages}
    assert sorted(notice_of.values()) == sorted(mail), "the mail delivered is not the mail queued"
    again = Counter(sender for copies in senders.values() for sender in copies[:-1])
    assert set(again) <= tally.killed_senders, f"mail sent twice by a sender that was not killed: {again}"
    assert all(count == 1 for count in again.values()), f"a killed sender left more than one mail: {again}"
    return sum(again.values())
