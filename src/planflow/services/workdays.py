"""Swedish working days: weekends, public holidays and the eves that are days off in practice
(midsummer, Christmas and New Year's eve). A deadline or a reminder that falls on a day off moves
to the working day before it; mail made on a day off waits for the next working day's morning."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import holidays

from .. import clock

# When a working day's mail begins, in the installation's zone: what waited over a day off leaves then.
MORNING = time(7, 0)


@cache
def _days_off(year: int) -> Any:
    # Asked for by name: the eves are only in DE_FACTO, and the options are not left to defaults
    # that have changed between releases (older ones counted every Sunday as a holiday).
    return holidays.country_holidays(
        "SE", years=year, categories=(holidays.PUBLIC, holidays.DE_FACTO), language="sv"
    )


@cache
def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Swedish public holiday or de facto day off."""
    return day.weekday() < 5 and day not in _days_off(day.year)


@cache
def _working_days(year: int) -> tuple[date, ...]:
    """The working days of the year before, this year and the next, in order (for counting)."""
    first, last = date(year - 1, 1, 1), date(year + 1, 12, 31)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(day for day in days if is_working_day(day))


def holiday_name(day: date) -> str | None:
    """The day off's Swedish name (midsommarafton, julafton…), or None."""
    name: str | None = _days_off(day.year).get(day)
    return name


def on_or_before(day: date) -> date:
    """The day itself when it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def before(day: date, count: int) -> date:
    """The working day `count` working days before `day` (0: `day` moved onto a working day);
    counts of up to about a year."""
    days = _working_days(day.year)
    return days[bisect_right(days, day) - 1 - count]


def after(day: date, count: int) -> date:
    """The working day `count` working days after `day` (count ≥ 1, up to about a year)."""
    days = _working_days(day.year)
    return days[bisect_right(days, day) + count - 1]


def between(first: date, last: date) -> int:
    """How many working days fall in (first, last]."""
    days = _working_days(last.year)
    return bisect_right(days, last) - bisect_left(days, first + timedelta(days=1))


def mail_from(moment: datetime) -> datetime:
    """When mail made at `moment` may leave: at once on a working day; made on a day off, at
    MORNING of the next working day (in the installation's zone). The one rule for every mail."""
    day = clock.local(moment).date()
    if is_working_day(day):
        return moment
    return datetime.combine(after(day, 1), MORNING, tzinfo=clock.zone()).astimezone(UTC)
