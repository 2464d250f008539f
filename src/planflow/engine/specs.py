"""Process specs: parsed once from workflows/, checked against the safe expression language,
cached by the content hash that each instance records."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .expressions import ExpressionError, compile_expression
from .forms import FormLibrary
from .safety import CLOCKED_TIMERS

LANES = frozenset({"activity_owner", "focus_area_lead", "process_leader", "steering_group", "board"})


class SpecError(ValueError):
    """A BPMN file planflow will not run; the message names the file and the element."""


@dataclass(frozen=True)
class UserTaskInfo:
    name: str  # the BPMN id, which names its form
    title: str
    lane: str
    documentation: str


@dataclass(frozen=True)
class ProcessDefinition:
    """One process of one BPMN file as parsed: what an instance runs."""

    process_id: str
    title: str
    hash: str
    filename: str
    source: str
    spec: Any = field(repr=False)
    subprocess_specs: dict[str, Any] = field(repr=False)
    user_tasks: dict[str, UserTaskInfo] = field(repr=False)


def content_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


# libxml2's XML-schema validation is not safe in two threads at once: under load a gthread
# worker whose first requests parsed together answered 500 from then on, and 1 in 30 forked
# processes with four threads parsing died (double free). One parse at a time, process-wide.
_PARSING = threading.Lock()


def parse(source: str, filename: str, forms: FormLibrary | None = None) -> ProcessDefinition:
    """Parse and check one BPMN file holding one executable process."""
    with _PARSING:
        return _parse(source, filename, forms)


def _parse(source: str, filename: str, forms: FormLibrary | None) -> ProcessDefinition:
    try:
        parser = BpmnParser(validator=BpmnValidator())
        parser.add_bpmn_str(source.encode("utf-8"), filename)
        process_ids = parser.get_process_ids()
        if len(process_ids) != 1:
            raise SpecError(f"{filename}: a file must hold exactly one process, found {len(process_ids)}")
        (process_id,) = process_ids
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except (SpiffWorkflowException, etree.LxmlError, ValueError) as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(f"{filename}: {str(exc).splitlines()[0]}") from None
    _check_correlations(parser, filename)
    for process in (spec, *subprocess_specs.values()):
        # An ad-hoc sub-process evaluates its completion condition after each of its tasks.
        _compile(getattr(process, "completion_condition", None), f"{filename}: {process.name}")
    user_tasks: dict[str, UserTaskInfo] = {}
    for task_spec in _task_specs(spec, subprocess_specs):
        _check(task_spec, filename)
        if isinstance(task_spec, UserTask):
            user_tasks[task_spec.bpmn_id] = _user_task(task_spec, filename, forms)
    return ProcessDefinition(
        process_id=process_id,
        title=spec.description or process_id,
        hash=content_hash(source),
        filename=filename,
        source=source,
        spec=spec,
        subprocess_specs=subprocess_specs,
        user_tasks=user_tasks,
    )


def _task_specs(spec: Any, subprocess_specs: dict[str, Any]) -> Iterator[Any]:
    for process in (spec, *subprocess_specs.values()):
        yield from process.task_specs.values()


def _check_correlations(parser: BpmnParser, filename: str) -> None:
    """Refuse a message correlation whose retrieval expression is not a safe expression: it is
    evaluated on every message sent or caught, so it must be refused here, not then."""
    for correlation_id, correlation in parser.correlations.items():
        for retrieval in correlation["retrieval_expressions"]:
            _compile(retrieval["expression"], f"{filename}: {correlation_id}")


def _check(task_spec: Any, filename: str) -> None:
    """Refuse scripts and anything we cannot evaluate safely; swap timers for clocked ones."""
    where = f"{filename}: {task_spec.bpmn_id or task_spec.name}"
    if isinstance(task_spec, ScriptEngineTask):
        raise SpecError(f"{where}: script and service tasks are not allowed")
    if isinstance(task_spec, (MultiInstanceTask, LoopTask)):
        raise SpecError(f"{where}: loop and multi-instance tasks are not supported")
    for condition, _target in getattr(task_spec, "cond_task_specs", []):
        # BPMN conditions come wrapped in an operator holding the expression text.
        _compile(condition.args[0] if hasattr(condition, "args") else condition, where)
    definition: Any = getattr(task_spec, "event_definition", None)
    for correlation in getattr(definition, "correlation_properties", None) or []:
        _compile(correlation.retrieval_expression, where)
    if isinstance(definition, MultipleEventDefinition):
        raise SpecError(f"{where}: multiple event definitions are not supported")
    if isinstance(definition, CycleTimerEventDefinition):
        raise SpecError(f"{where}: cycle timers are not supported (the scheduler runs periodic work)")
    clocked = CLOCKED_TIMERS.get(type(definition))
    if clocked is not None:
        _compile(definition.expression, where)
        _check_constant_timer(clocked, definition.expression, where)
        task_spec.event_definition = clocked(
            definition.name, definition.expression, description=definition.description
        )
    elif definition is not None and getattr(definition, "expression", None):
        _compile(definition.expression, where)


def _compile(expression: str | None, where: str) -> None:
    if expression is None:
        return
    try:
        compile_expression(expression)
    except ExpressionError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _check_constant_timer(clocked: Any, expression: str | None, where: str) -> None:
    """Refuse a timer whose date or duration does not depend on data and is out of bounds now,
    rather than when an instance first reaches it."""
    if expression is None:
        return
    compiled = compile_expression(expression)
    if compiled.names:  # computed from task data: checked when the timer is armed
        return
    try:
        clocked.check(compiled.evaluate({}))
    except ExpressionError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _user_task(task_spec: Any, filename: str, forms: FormLibrary | None) -> UserTaskInfo:
    where = f"{filename}: {task_spec.bpmn_id}"
    if task_spec.lane not in LANES:
        raise SpecError(f"{where}: lane {task_spec.lane!r} is not a role ({', '.join(sorted(LANES))})")
    if forms is not None and task_spec.bpmn_id not in forms:
        raise SpecError(f"{where}: no form forms/{task_spec.bpmn_id}.json")
    return UserTaskInfo(
        name=task_spec.bpmn_id,
        title=task_spec.bpmn_name or task_spec.bpmn_id,
        lane=task_spec.lane,
        documentation=(task_spec.documentation or "").strip(),
    )


class SpecLibrary:
    """The processes of a workflows/ folder, plus any older version an instance still runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.forms = FormLibrary(folder / "forms")
        self._by_hash: dict[str, ProcessDefinition] = {}
        self._current: dict[str, ProcessDefinition] = {}
        for path in sorted(folder.glob("*.bpmn")):
            definition = parse(path.read_text(encoding="utf-8"), path.name, self.forms)
            if definition.process_id in self._current:
                raise SpecError(f"{path.name}: process {definition.process_id} is defined twice")
            self._current[definition.process_id] = definition
            self._by_hash[definition.hash] = definition

    def current(self, process_id: str) -> ProcessDefinition:
        """The version in workflows/ now: new instances start on it."""
        try:
            return self._current[process_id]
        except KeyError:
            raise SpecError(f"no process {process_id!r} in {self.folder}") from None

    def by_hash(self, spec_hash: str, stored_source: Callable[[str], tuple[str, str]]) -> ProcessDefinition:
        """The version an instance runs; an older one is parsed from its stored source once."""
        definition = self._by_hash.get(spec_hash)
        if definition is None:
            source, filename = stored_source(spec_hash)
            if content_hash(source) != spec_hash:
                raise SpecError(f"stored spec {spec_hash[:12]} does not match its hash")
            definition = parse(source, filename, self.forms)
            self._by_hash[spec_hash] = definition
        return definition

    @property
    def processes(self) -> list[ProcessDefinition]:
        return list(self._current.values())
