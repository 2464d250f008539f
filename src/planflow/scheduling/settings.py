"""The schedule: scheduler/schedule.toml (or the file PLANFLOW_SCHEDULE names), read and checked
once at start. Anything wrong with it is refused in one line naming the key."""

from __future__ import annotations

import calendar
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from .. import resources
from ..services.chain.cadence import PERIOD_KINDS, Cadence
from ..services.chain.reminders import ReminderRules
from ..services.outputs.mailer import DeliveryRules


class ScheduleError(ValueError):
    """The schedule file cannot be used; the message is one line naming the key."""


@dataclass(frozen=True)
class Schedule:
    path: Path
    cadence: Cadence
    reminders: ReminderRules
    annual_report: tuple[int, int]  # month, day
    digest_at: time
    mail: DeliveryRules
    jobs: dict[str, dict[str, Any]]


def _int(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        return None if low <= value <= high else f"must be {low} to {high}, not {value}"

    return check


def _choice(*choices: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"


def _clock_time(value: Any) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):
        return f'must be a time such as "07:30", not {value!r}'
    hour, minute = map(int, value.split(":"))
    return None if hour < 24 and minute < 60 else f"{value!r} is not a time of day"


def _lead_times(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return f"must be a list of working days such as [7, 1], not {value!r}"
    for item in value:
        if problem := _int(1, 60)(item):
            return f"{item!r}: {problem}"
    return None if len(set(value)) == len(value) else "lists a day twice"


SECTIONS: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "cadence": {
        "period": _choice(*PERIOD_KINDS),
        "open_month": _int(1, 12),
        "open_day": _int(1, 31),
        "deadline_month": _int(1, 12),
        "deadline_day": _int(1, 31),
        "escalation_days": _int(1, 365),
    },
    "reminders": {
        "before_deadline": _lead_times,
        "overdue_every": _int(1, 60),
        "overdue_to_lead": _int(1, 120),
        "overdue_to_process_leader": _int(1, 120),
    },
    "annual_report": {"month": _int(1, 12), "day": _int(1, 31)},
    "digest": {"time": _clock_time},
    "mail": {
        "batch": _int(1, 10_000),
        "lease_seconds": _int(5, 86_400),
        "retry_first_seconds": _int(1, 86_400),
        "retry_max_seconds": _int(1, 7 * 86_400),
    },
}
# Keys a schedule may leave out: the cadence's escalation days are then the installation's
# (PLANFLOW_ESCALATION_DAYS); a schedule that names them sets them for the cycles it opens.
OPTIONAL = {("cadence", "escalation_days")}
JOB_KEYS = {"service", "trigger", "seconds", "minutes", "hours", "hour", "minute", "second", "day_of_week"}
# `at_start = true`: the job also runs once as the scheduler starts, not only when its trigger
# first fires (what is due by the day, such as a cycle whose opening day has come, is done then).
JOB_KEYS |= {"at_start"}


def schedule_path(configured: str | None) -> Path:
    return Path(configured) if configured else resources.folder("scheduler") / "schedule.toml"


Fail = Callable[[str, str], ScheduleError]


def load(configured: str | None, services: set[str]) -> Schedule:
    """Read and check the schedule; `services` are the job names planflow has."""
    path = schedule_path(configured)
    name = path.name

    def fail(key: str, problem: str) -> ScheduleError:
        return ScheduleError(f"{name}: {key}: {problem}")

    raw = _read(path)
    values = _sections(raw, fail)
    cadence = _cadence(values["cadence"], fail)
    reminders, annual, mail = values["reminders"], values["annual_report"], values["mail"]
    if reminders["overdue_to_process_leader"] <= reminders["overdue_to_lead"]:
        raise fail("reminders.overdue_to_process_leader", "must come after reminders.overdue_to_lead")
    if annual["day"] > calendar.monthrange(2027, annual["month"])[1]:  # 2027: not a leap year
        raise fail("annual_report.day", f"{annual['month']:02d}-{annual['day']:02d} is not in every year")
    if mail["retry_max_seconds"] < mail["retry_first_seconds"]:
        raise fail("mail.retry_max_seconds", "must be at least mail.retry_first_seconds")
    jobs = _jobs(raw, services, fail)
    hour, minute = map(int, values["digest"]["time"].split(":"))
    return Schedule(
        path=path,
        cadence=cadence,
        reminders=ReminderRules(
            before_deadline=tuple(sorted(reminders["before_deadline"])),
            overdue_every=reminders["overdue_every"],
            overdue_to_lead=reminders["overdue_to_lead"],
            overdue_to_process_leader=reminders["overdue_to_process_leader"],
        ),
        annual_report=(annual["month"], annual["day"]),
        digest_at=time(hour, minute),
        mail=DeliveryRules(
            batch=mail["batch"],
            lease_seconds=mail["lease_seconds"],
            retry_first_seconds=mail["retry_first_seconds"],
            retry_max_seconds=mail["retry_max_seconds"],
        ),
        jobs=jobs,
    )


def _read(path: Path) -> dict[str, Any]:
    """The file as TOML, or one line saying why it cannot be read as such."""
    name = path.name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot be read: {exc.strerror or type(exc).__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{name}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ScheduleError(f"{name}: not UTF-8 text") from None


def _sections(raw: dict[str, Any], fail: Fail) -> dict[str, dict[str, Any]]:
    """Every section of SECTIONS with each of its keys, each value checked on its own."""
    for section in raw:
        if section not in SECTIONS and section != "jobs":
            raise fail(section, f"unknown section (known: {', '.join([*SECTIONS, 'jobs'])})")
    values: dict[str, dict[str, Any]] = {}
    for section, checks in SECTIONS.items():
        given = raw.get(section)
        if not isinstance(given, dict):
            raise fail(section, "missing section" if given is None else "must be a table")
        for key in given:
            if key not in checks:
                raise fail(f"{section}.{key}", f"unknown key (known: {', '.join(checks)})")
        for key, check in checks.items():
            if key not in given:
                if (section, key) in OPTIONAL:
                    continue
                raise fail(f"{section}.{key}", "missing")
            if problem := check(given[key]):
                raise fail(f"{section}.{key}", problem)
        values[section] = given
    return values


def _jobs(raw: dict[str, Any], services: set[str], fail: Fail) -> dict[str, dict[str, Any]]:
    """The [jobs] tables, each naming a known service and an interval or cron trigger."""
    jobs = raw.get("jobs", {})
    if not isinstance(jobs, dict):
        raise fail("jobs", "must be a table")
    for job, spec in jobs.items():
        if not isinstance(spec, dict):
            raise fail(f"jobs.{job}", "must be a table")
        for key in spec:
            if key not in JOB_KEYS:
                raise fail(f"jobs.{job}.{key}", f"unknown key (known: {', '.join(sorted(JOB_KEYS))})")
        if spec.get("service") not in services:
            raise fail(f"jobs.{job}.service", f"names no known service ({', '.join(sorted(services))})")
        if spec.get("trigger") not in ("interval", "cron"):
            raise fail(f"jobs.{job}.trigger", "must be interval or cron")
        if not isinstance(spec.get("at_start", False), bool):
            raise fail(f"jobs.{job}.at_start", "must be true or false")
    return jobs


def _cadence(given: dict[str, Any], fail: Fail) -> Cadence:
    months = PERIOD_KINDS[given["period"]]
    for part in ("open", "deadline"):
        month = given[f"{part}_month"]
        if month > months:
            raise fail(f"cadence.{part}_month", f"a {given['period']} has {months} month(s), not {month}")
        cadence_probe = Cadence(given["period"], month, 1, month, 1)
        day = given[f"{part}_day"]
        for year in (2027, 2028):  # a common year and a leap year
            for period in cadence_probe.periods(year):
                first = cadence_probe.month_of(period, month)
                if day > calendar.monthrange(year, first)[1]:
                    raise fail(
                        f"cadence.{part}_day",
                        f"{period} has no day {day} in its month {month} ({year}-{first:02d})",
                    )
    if (given["deadline_month"], given["deadline_day"]) <= (given["open_month"], given["open_day"]):
        raise fail("cadence.deadline_day", "the deadline must come after the day the cycle opens")
    return Cadence(
        given["period"],
        given["open_month"],
        given["open_day"],
        given["deadline_month"],
        given["deadline_day"],
        given.get("escalation_days"),
    )
