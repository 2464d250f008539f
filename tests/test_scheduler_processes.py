"""Three real `planflow scheduler` processes against one PostgreSQL database, over the same due
work, one of them SIGKILLed in the middle of sending a mail: every mail arrives once, every
escalation happens once, the year's report starts once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select, update

from planflow import clock
from planflow.db import Database
from planflow.models import AnnualReport, AuditEvent, Deviation, JobRun, Notice, User
from planflow.services import clockshift

from .mailserver import MailServer
from .services.chain import Chain

SHIPPED = Path(__file__).resolve().parents[1] / "scheduler" / "schedule.toml"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
# The day before the Q4 deadline (2026-12-15): a 1-day reminder for every open report is due, the
# red deviation's 14 days are long past, and December's annual report is due.
DUE_DAY = datetime(2026, 12, 14, 8, tzinfo=UTC)


def _fast_schedule(folder: Path) -> Path:
    """The shipped schedule, every job polled each second, mail in batches of 5 on a 5 s lease."""
    text = SHIPPED.read_text(encoding="utf-8")
    text = re.sub(r"^(minutes|seconds) = \d+$", "seconds = 1", text, flags=re.MULTILINE)
    text = text.replace("batch = 50", "batch = 5").replace("lease_seconds = 300", "lease_seconds = 5")
    path = folder / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _wait_for(
    condition: Callable[[], bool], what: str, explain: Callable[[], str], limit: float = 120.0
) -> None:
    """Poll until `condition()` holds; a bound on waiting, not a timing assertion. On giving up,
    the failure says what the schedulers did (`explain`)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}\n{explain()}")
        time.sleep(0.2)


def _job_runs(database: Database) -> str:
    with database.reading() as session:
        runs = session.scalars(select(JobRun).where(JobRun.job != "deliver_mail").order_by(JobRun.id)).all()
        return "\n".join(
            f"{r.runner} {r.job} {r.outcome} x{r.repeats + 1} {r.summary} {r.error or ''}" for r in runs
        )


def _tails(logs: list[IO[bytes]]) -> str:
    return "\n".join(
        f"--- {log.name}\n" + Path(log.name).read_text(encoding="utf-8", errors="replace")[-3000:]
        for log in logs
    )


def test_three_schedulers_one_killed_mid_delivery_do_everything_once(
    seeded: Database, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several schedulers at once run on PostgreSQL only (SQLite refuses a second one)")
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()  # 2026-Q4, due 2026-12-15
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    with seeded.transaction() as session:
        session.execute(update(User).values(mail_delivery="immediate"))  # mailed at once
        clockshift.move(session, DUE_DAY)  # the schedulers' clock
    clock.set_now(None)

    server = MailServer().start()
    held, killed = threading.Event(), threading.Event()
    victim: list[int] = []

    def hold(message: EmailMessage) -> str | None:
        """The 10th mail: its sender is killed while the server has not yet answered."""
        if victim or len(server.inbox.messages) < 10:
            return None
        victim.append(int(str(message["X-Planflow-Sender"]).rsplit(":", 1)[1]))
        held.set()
        killed.wait(30)
        return "451 4.3.0 the sender went away before the end of its mail"

    server.inbox.hold = hold
    env = {
        **os.environ,
        "PLANFLOW_DATABASE_URL": database_url,
        "PLANFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLANFLOW_SCHEDULE": str(_fast_schedule(tmp_path)),
        "PLANFLOW_SMTP_HOST": "127.0.0.1",
        "PLANFLOW_SMTP_PORT": str(server.port),
    }
    planflow = str(Path(sys.executable).parent / "planflow")
    logs = [open(tmp_path / f"scheduler{n}.log", "wb") for n in range(3)]  # noqa: SIM115
    processes = [
        subprocess.Popen([planflow, "scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        assert held.wait(120), "no scheduler sent ten mails"
        assert victim[0] in [p.pid for p in processes]
        os.kill(victim[0], signal.SIGKILL)
        killed.set()

        def all_done() -> bool:
            """Every notice sent, the deviation escalated, the year's report started: three jobs
            that run side by side, so none of them may be taken as the sign of the others."""
            with seeded.reading() as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(Notice)
                    .where(Notice.sent_at.is_(None), Notice.next_attempt_at.is_not(None))
                )
                made = session.scalar(select(func.count()).select_from(Notice))
                escalated = session.scalar(
                    select(func.count()).select_from(Deviation).where(Deviation.escalated_at.is_not(None))
                )
                annual = session.scalar(select(func.count()).select_from(AnnualReport))
            return bool(made and made > 10 and waiting == 0 and escalated and annual)

        _wait_for(
            all_done,
            "every notice sent, the deviation escalated and the year's report started",
            explain=lambda: _job_runs(seeded) + _tails(logs),
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        server.stop()

    with seeded.reading() as session:
        # A mail per notice mailed on its own: notices due at once for one person went in one
        # batch (their digest_id names it), as a digest holds the day's.
        on_their_own = (Notice.channel == "mail") & Notice.digest_id.is_(None)
        mails = session.scalar(select(func.count()).select_from(Notice).where(on_their_own))
        reminders = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.template == "notice.reminder")
        )
        escalated = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "deviation.escalated")
        )
        annual = session.scalar(select(func.count()).select_from(AnnualReport))
        senders = set(session.scalars(select(Notice.claimed_by)).all())
        taken_over = session.scalar(select(func.count()).select_from(Notice).where(Notice.attempts >= 2))
    ids = server.inbox.ids()
    assert reminders and reminders >= 50  # one per open report
    assert len(ids) == mails and len(set(ids)) == len(ids)  # each mail once, none lost
    assert escalated == 1 and annual == 1
    assert senders == {None}  # no claim left behind
    assert taken_over and taken_over >= 1  # the killed sender's claims, sent by another after the lease
    assert len({str(m["X-Planflow-Sender"]) for m in server.inbox.messages}) >= 2
