"""`planflow cycle list` and `planflow cycle cancel`: see which cycle is open, and cancel one
started by mistake, its period then free to start again (issue 18: a month period started 60
tasks at once, and nothing undid it)."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from tests.conftest import Cli


def _next_month() -> tuple[str, str]:
    today = date.today()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year}-{month:02d}", date(year, month, 25).isoformat()


def test_cycle_list_shows_the_open_cycle_and_cancel_frees_its_period(cli: Cli, database_url: str) -> None:
    cli("init", "--demo")
    assert cli("cycle", "list").output.strip() == "Ingen omgång har startats i planen än."
    period, deadline = _next_month()
    started = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    assert started.exit_code == 0, started.output
    assert cli("cycle", "list").output.strip() == f"{period}  pågår, sista dag {deadline}"

    refused = cli("cycle", "cancel", "--period", period, "--reason", "fel", "--as", "anna.nilsson")
    assert refused.exit_code != 0 and "anna.nilsson får inte" in refused.output
    reason = "Månad i stället för kvartal"
    cancelled = cli("cycle", "cancel", "--period", period, "--reason", reason, "--as", "processledare")
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Omgången {period} är avbruten" in cancelled.output
    listed = json.loads(cli("cycle", "list", "--json").output)
    assert [(c["period"], c["state"]) for c in listed] == [(period, "cancelled")]
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM open_task")).scalar() == 0
            reason = connection.execute(
                sa.text("SELECT reason FROM audit_event WHERE action = 'cycle.cancelled'")
            ).scalar()
            assert reason == "Månad i stället för kvartal"
    finally:
        engine.dispose()

    again = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    assert again.exit_code == 0, again.output
    english = cli("--language", "en", "cycle", "list").output.splitlines()
    assert english == [f"{period}  open, deadline {deadline}", f"{period}  cancelled, deadline {deadline}"]


def test_starting_beside_an_open_cycle_names_it_the_plans_title_and_what_to_do(cli: Cli) -> None:
    cli("init", "--demo")
    period, deadline = _next_month()
    cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    later = ("--period", "2099-Q1", "--deadline", "2099-03-25")
    refused = cli("cycle", "start", *later, "--as", "processledare")
    assert refused.exit_code != 0
    (line,) = refused.output.strip().splitlines()
    assert f"Omgången {period} i planen Handlingsplan för näringslivsstrategin" in line
    assert "sodertalje-2016" not in line and f"sista dag {deadline}" in line and "avbrytas" in line
