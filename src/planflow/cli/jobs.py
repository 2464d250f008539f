"""What `serve`, `tick` and `scheduler` share: the jobs' context, and a run's summary in words."""

from __future__ import annotations

from typing import Any

from ..db import Database
from .base import OneLineError, app, say, signing_key

# The counts a job's summary may hold, each worded by cli.job.<name> with its count.
COUNTED = (
    "cycles_opened",
    "reports_started",
    "timers_fired",
    "deviations_escalated",
    "reminders",
    "overdue_reminders",
    "escalated_to_lead",
    "escalated_to_process_leader",
    "annual_reports_started",
    "digests",
    "mails_sent",
    "mails_failed",
    "mails_waiting",
)


def jobs_context(db: Database) -> Any:
    """The jobs' context (scheduling.Context): the schedule refused in one line when it is wrong."""
    # APScheduler is imported only by the commands that run jobs.
    from ..scheduling import ScheduleError, context

    try:
        return context(db, app().config, signing_key())
    except ScheduleError as exc:
        raise OneLineError(str(exc)) from None


def describe(summary: dict[str, Any], error: str | None) -> str:
    """What a job run did, in the run's language: its counts, what it opened, why it skipped."""
    parts = []
    for key, value in summary.items():
        if key in COUNTED:
            parts.append(say(f"cli.job.{key}", count=value))
        elif key == "anchored_through":
            parts.append(say("cli.job.anchored_through", seq=value))
        elif key in ("opened", "started"):
            parts.append(f"({', '.join(value)})")
        elif key == "skipped":
            parts.extend(say("cli.job.skipped", reason=message) for message in value)
    if error:
        parts.append(say("cli.job.failed", error=error))
    return ", ".join(parts) or say("cli.job.nothing_due")
