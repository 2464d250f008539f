"""The script engine planflow gives SpiffWorkflow, and timers that read planflow's clock.

SpiffWorkflow evaluates every expression with eval/exec; here expressions go through
planflow.engine.expressions (whitelisted syntax, interpreted, no attribute access) and scripts
are refused outright. Its timers call datetime.now() both when armed and when checked; the
subclasses below ask planflow.clock instead, so `tick --at` moves timers like everything else.
"""

from __future__ import annotations

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


class ClockedTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    """A timer at a fixed date and time, checked against planflow's clock."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockedDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    """A timer a duration after it is armed, armed and checked by planflow's clock."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            due = clock.now() + TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())
            event_value = due.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


CLOCKED_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
}
