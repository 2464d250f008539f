"""The schedule file, the job that fires due timers and the one that signs audit checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planflow import clock
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.scheduling import JOBS, configure, load_schedule
from planflow.services import checkpoints, plans
from planflow.services.audit import OPERATOR_ACTOR

from .services.chain import Chain


def test_schedule_names_only_known_services_and_configures_jobs(db: Database) -> None:
    jobs = load_schedule()
    assert jobs["fire_due_timers"]["service"] == "fire_due_timers"
    signer = SigningKey(Ed25519PrivateKey.generate())
    scheduler = configure(BackgroundScheduler(timezone="Europe/Stockholm"), db, signer)
    assert [job.id for job in scheduler.get_jobs()] == list(jobs)
    assert scheduler.get_job("audit_checkpoint").args == (db, signer)
    assert jobs["audit_checkpoint"]["trigger"] == "cron"  # daily


def test_timer_job_escalates_a_red_deviation_once(seeded: Database) -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    clock.set_now(start)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    clock.set_now(start + timedelta(days=15))
    assert JOBS["fire_due_timers"](seeded) == 1
    assert JOBS["fire_due_timers"](seeded) == 0


def test_checkpoint_job_anchors_the_chain_once_per_head(db: Database) -> None:
    signer = SigningKey(Ed25519PrivateKey.generate())
    assert JOBS["audit_checkpoint"](db, signer) is None  # nothing recorded yet: nothing to sign
    with db.transaction() as session:  # event 1
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
    assert JOBS["audit_checkpoint"](db, signer) == 1
    assert JOBS["audit_checkpoint"](db, signer) == 1
    with db.reading() as session:
        assert [c["seq"] for c in checkpoints.list_checkpoints(session)] == [1]
        assert checkpoints.verify(session, signer.public_key).anchored_seq == 1
