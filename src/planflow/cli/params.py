"""The values the command line reads itself (a date, a time), refused in the run's language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import click

from .. import clock
from .base import BadValue, quoted, say

# The years a time or date given on the command line may fall in: anything else is a typo.
YEARS = (clock.FIRST_YEAR, clock.LAST_YEAR)


def _outside_years(value: str) -> str:
    return say("cli.value.outside_years", value=quoted(value), first=YEARS[0], last=YEARS[1])


class CalendarDate(click.ParamType):
    """A YYYY-MM-DD date that is in the calendar and in the years planflow works with."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise BadValue(say("cli.value.not_a_date", value=quoted(value)), ctx, param)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise BadValue(say("cli.value.not_in_calendar", value=quoted(value)), ctx, param) from None
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise BadValue(_outside_years(value), ctx, param)
        return day


class Moment(click.ParamType):
    """An ISO time in the years planflow works with; without a zone it is UTC."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise BadValue(say("cli.value.not_a_time", value=quoted(value)), ctx, param) from None
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise BadValue(_outside_years(value), ctx, param)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
