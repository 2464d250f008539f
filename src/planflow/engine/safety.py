"""The script engine planflow gives SpiffWorkflow, and timers that read planflow's clock.

SpiffWorkflow evaluates every expression with eval/exec; here expressions go through
planflow.engine.expressions (names, literals, ==, !=, in, and, or, not; interpreted) and scripts
are refused outright. Its timers call datetime.now() both when armed and when checked; the
subclasses below ask planflow.clock instead, so `tick --at` moves timers like everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .. import clock
from .expressions import ExpressionError, evaluate


class _ExpressionsOnly(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        raise ExpressionError("scripts are not allowed in planflow processes")

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionError("service tasks are not allowed in planflow processes")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(environment=_ExpressionsOnly())

    def validate(self, expression: str) -> None:
        from .expressions import compile_expression

        compile_expression(expression)


SAFE_ENGINE = SafeScriptEngine()


# SpiffWorkflow adds up a duration month by month (P10000000M costs seconds, P999999999Y hours)
# and would do it under the instance lock, so durations and dates are bounded before that.
# Planflow's timers wait days or weeks (an escalation after 14 days); the yearly cycle is the
# longest rhythm it has. Ten years is far beyond any of them and still cheap to add up.
MAX_TIMER_DAYS = 3720
"""Longest a timer may wait: ten years, counted as 120 months of 31 days so that P10Y, P120M
and P3720D all pass (each unit is counted at its longest before the months are added up)."""

YEARS = (clock.FIRST_YEAR, clock.LAST_YEAR)
"""The years a timer may be due in, both inclusive (in UTC): the product's one year range
(planflow.clock), that of plans, cycles and reports too."""

# An ISO 8601 date-time with offset is 32 characters, a duration a few; 64 leaves room and
# keeps any number in the text far too short to be slow to parse.
_MAX_TIMER_TEXT = 64

# The most days each unit can stand for, to bound a duration before it is added up.
_MOST_DAYS = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440}


def _short(value: object) -> str:
    """A bad value for a message: a short prefix of its text, quoted."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40] + "..." if len(text) > 40 else text)


def _timer_text(value: object) -> str:
    if not isinstance(value, str):
        raise ExpressionError(
            f"a timer needs a date or duration as text, not {type(value).__name__} {_short(value)}"
        )
    if len(value) > _MAX_TIMER_TEXT:
        raise ExpressionError(
            f"a timer's date or duration {_short(value)} is longer than {_MAX_TIMER_TEXT} characters"
        )
    return value


def timer_date(value: object) -> datetime:
    """The moment an ISO 8601 date (or week date) means, refused outside YEARS."""
    text = _timer_text(value)
    if text.strip().upper().startswith("P"):
        raise ExpressionError(f"a date timer needs a date, not the duration {_short(text)}")
    try:
        due = TimerEventDefinition.parse_time_or_duration(text)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise ExpressionError(f"timer date {_short(text)} is not an ISO 8601 date") from None
    if not isinstance(due, datetime):
        raise ExpressionError(f"timer date {_short(text)} is not an ISO 8601 date")
    return _in_years(due, f"timer date {_short(text)} is")


def timer_duration(value: object) -> dict[str, Any]:
    """The parts of an ISO 8601 duration, refused if it could be longer than MAX_TIMER_DAYS."""
    text = _timer_text(value)
    try:
        parts: dict[str, Any] = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # SpiffWorkflow's parser raises a bare Exception for a bad duration
        raise ExpressionError(f"timer duration {_short(text)} is not an ISO 8601 duration") from None
    if not text.strip().upper().startswith("P") or not parts:
        raise ExpressionError(f"timer duration {_short(text)} is not an ISO 8601 duration")
    most_days = sum(amount * _MOST_DAYS.get(unit, 1 / 86400) for unit, amount in parts.items())
    if most_days > MAX_TIMER_DAYS:
        raise ExpressionError(
            f"timer duration {_short(text)} is longer than MAX_TIMER_DAYS "
            f"({MAX_TIMER_DAYS} days, about ten years)"
        )
    return parts


def _in_years(due: datetime, what: str) -> datetime:
    """`due`, unless it falls outside YEARS; `what` starts the message."""
    if not YEARS[0] <= due.astimezone(UTC).year <= YEARS[1]:
        raise ExpressionError(f"{what} outside {YEARS[0]}-{YEARS[1]}")
    return due


class ClockedTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    """A timer at a fixed date and time, checked against planflow's clock."""

    @staticmethod
    def check(value: object) -> None:
        """Refuse a value this timer could not be armed with, whenever it is armed."""
        timer_date(value)

    @staticmethod
    def due(value: object, now: datetime) -> datetime:
        return timer_date(value)

    def has_fired(self, my_task: Any) -> bool:
        return _has_fired(self, my_task)


class ClockedDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    """A timer a duration after it is armed, armed and checked by planflow's clock."""

    @staticmethod
    def check(value: object) -> None:
        """Refuse a value this timer could not be armed with, whenever it is armed."""
        timer_duration(value)

    @staticmethod
    def due(value: object, now: datetime) -> datetime:
        parts = timer_duration(value)
        try:
            due = now + TimerEventDefinition.get_timedelta_from_start(parts, now)
        except OverflowError:
            raise ExpressionError(
                f"timer duration {_short(value)} from {now:%Y-%m-%d} is out of range"
            ) from None
        return _in_years(due, f"timer {_short(value)} would be due")

    def has_fired(self, my_task: Any) -> bool:
        return _has_fired(self, my_task)


def _has_fired(timer: ClockedTimeDate | ClockedDuration, my_task: Any) -> bool:
    """Arm the timer on first sight (evaluating its expression), then compare with the clock."""
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        value = my_task.workflow.script_engine.evaluate(my_task, timer.expression)
        try:
            # Stored as the moment it is due, so loading needs only one kind of check: a date.
            event_value = timer.due(value, clock.now()).isoformat()
        except ExpressionError as exc:
            raise ExpressionError(f"timer {my_task.task_spec.bpmn_id}: {exc}") from None
        my_task._set_internal_data(event_value=event_value)
    if timer_date(event_value) <= clock.now():
        my_task._set_internal_data(event_fired=True)
    return bool(my_task._get_internal_data("event_fired", False))


CLOCKED_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
}
