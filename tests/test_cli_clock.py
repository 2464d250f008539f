"""One clock for every process of a demo installation (issue 19): after `planflow tick --at`, every
other command (a new process, its clock not pinned) keeps the moved time the server and the scheduler
keep, so the audit trail never runs backwards and an issued report says the moved date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from planflow import clock
from planflow.models import AuditEvent

from .conftest import Cli
from .reports.conftest import pdf_text

MOVED = datetime(2027, 3, 3, 9, tzinfo=UTC)
AFTER_TICK = ("user.deactivated", "case_number.set", "report.issued")


def _new_process() -> None:
    """What a command run after `tick` starts from: a clock of its own, at the wall's time."""
    clock.set_now(None)
    clock.set_offset(timedelta(0))


def test_commands_after_a_tick_keep_the_moved_clock(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", "--demo").exit_code == 0
    ticked = cli("tick", "--at", MOVED.isoformat())
    assert ticked.exit_code == 0, ticked.output
    _new_process()

    assert cli("users", "deactivate", "anna.nilsson").exit_code == 0
    # The tick opened 2027-Q1 (the schedule's cadence); the process leader registers its case number.
    numbered = cli("report", "case-number", "cycle", "2027-Q1", "KS 2027/4", "--as", "processledare")
    assert numbered.output == "Diarienummer KS 2027/4 registrerat på styrgruppsrapporten för 2027-Q1.\n"
    out = tmp_path / "q1.pdf"
    issued = cli(
        "report", "steering", "--period", "2027-Q1", "--out", str(out), "--issue", "--as", "processledare"
    )
    assert issued.exit_code == 0, issued.output

    engine = create_engine(cli.env["PLANFLOW_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            times = connection.execute(
                select(AuditEvent.action, AuditEvent.occurred_at).order_by(AuditEvent.seq)
            ).all()
    finally:
        engine.dispose()
    after_tick = {action: at for action, at in times if action in AFTER_TICK}
    assert set(after_tick) == set(AFTER_TICK)
    for action, at in after_tick.items():  # within the minutes the test takes, from the moved time
        assert MOVED <= at.replace(tzinfo=UTC) < MOVED + timedelta(hours=1), (action, at)
    moments = [at for _, at in times]
    assert moments == sorted(moments)  # the trail never runs backwards
    said = pdf_text(out.read_bytes())
    assert "Utfärdad 2027-03-03" in said and "Diarienummer KS 2027/4" in said
