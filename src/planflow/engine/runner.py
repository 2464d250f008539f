"""A running process instance in memory: start it, load it from stored state, complete a user
task, deliver a signal, fire due timers, and dump it again.

Stored state never carries the process definition: it names the spec by content hash and the
spec comes from the SpecLibrary, parsed and checked by planflow. So a tampered row can change
data, never code. State of any other serializer version is refused, because SpiffWorkflow's own
migrations of old versions run eval.

Nor does it carry history it no longer needs: SpiffWorkflow appends a task for every element a
loop passes (four per returned report), and walks its tree only 1,000 levels deep, so a report
returned 250 times would wait on a task nothing can reach. After every step the completed
stretches of the tree are pruned (see _prune_history); the records and the audit trail keep what
happened, and a count per element keeps the process page's "done N times" exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (
    IntermediateCatchEvent,
    IntermediateThrowEvent,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .expressions import ExpressionError
from .safety import CLOCKED_TIMERS, SAFE_ENGINE, timer_date
from .specs import ProcessDefinition
from .stored import MAX_STATE_DEPTH, StateError, check_nesting, check_task_graphs, clip, unreadable
from .stored import MAX_TASKS as MAX_TASKS  # a public name of the runner's since before the move

SERIALIZER_VERSION = "planflow-1"


class StuckError(StateError):
    """A step that would leave the instance running with nothing anyone can do next: refused,
    so it is never saved."""


@dataclass(frozen=True)
class HumanTask:
    """A user task that is ready for a person."""

    id: str
    name: str
    title: str
    lane: str


@dataclass(frozen=True)
class ArmedTimer:
    task_id: str
    name: str
    due_at: datetime


class _InstanceConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Writes the workflow without its spec; restores it onto the spec it is given."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], definition: ProcessDefinition) -> BpmnWorkflow:
        workflow = self.target_class(definition.spec, definition.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = _InstanceConverter
    for clocked in CLOCKED_TIMERS.values():
        config[clocked] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config), version=SERIALIZER_VERSION)


_SERIALIZER = _serializer()
_FORBIDDEN_KEYS = ("spec", "subprocess_specs")


def _check_stored_timers(workflow: BpmnWorkflow) -> None:
    """Refuse an armed timer whose stored due time is garbage or out of range: left in, it
    would fail every later step of the instance, or wait for a century."""
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
                continue
            due = task.internal_data.get("event_value")
            if due is not None:
                try:
                    timer_date(due)
                except ExpressionError as exc:
                    raise StateError(f"stored timer {task.task_spec.bpmn_id}: {exc}") from None


PRUNED_KEY = "pruned_completions"
"""Where a task tree counts, per BPMN element, the completed tasks pruned from it: in its root
task's internal data, so the counts are stored, restored and checked with the tree they belong
to (a sub-process keeps its own), and no other part of the stored state changes shape."""

_HISTORY_SPECS = (
    UserTask,
    ManualTask,
    NoneTask,
    ScriptEngineTask,
    ExclusiveGateway,
    IntermediateThrowEvent,
    IntermediateCatchEvent,
    StartEvent,
)
"""Elements whose completed tasks SpiffWorkflow never looks at again once their successor has
completed too. Not in the list, so never pruned and never a neighbour of a pruned task: joins and
parallel or inclusive gateways (they find their split among their ancestors, tell loop rounds
apart by ancestry and read their parent's data), a boundary event's split (it tells the main task
from the events by its children), sub-process and multi-instance tasks (their task ids key
sub-processes and children), event-based gateways, and anything SpiffWorkflow adds later."""

_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _is_history(task: Any) -> bool:
    return task.state == TaskState.COMPLETED and isinstance(task.task_spec, _HISTORY_SPECS)


def _prune_history(workflow: BpmnWorkflow) -> int:
    """Drop the middle of every stretch of completed tasks from each task tree, counting what went
    per element in the tree's root; returns how many tasks went.

    A task goes when it, its parent and its only child are completed _HISTORY_SPECS tasks: the
    child takes its place under the parent. So ancestors stay ancestors, a task that is not
    finished keeps the parent it inherits its data from, and the root, each tree's last task (a
    finished sub-process hands on its data) and every task a sub-process runs under stay. The
    child's data is its own copy, and the serializer stores it against its new parent. A loop
    then leaves the same few tasks behind however often it ran.
    """
    removed = 0
    for process in (workflow, *workflow.subprocesses.values()):
        kept = {process.task_tree.id, *workflow.subprocesses}
        if process.last_task is not None:
            kept.add(process.last_task.id)
        tasks = process.tasks
        # Parents come before their children in `tasks` (a task is added under an existing one),
        # so one pass folds a whole stretch: each pruned task's child meets its new parent next.
        for task in list(tasks.values()):
            if task.id in kept or not _is_history(task) or len(task._children) != 1:
                continue
            parent, child = task.parent, tasks.get(task._children[0])
            if parent is None or child is None or not _is_history(parent) or not _is_history(child):
                continue
            parent._children[parent._children.index(task.id)] = child.id
            child._parent = parent.id
            del tasks[task.id]
            if bpmn_id := task.task_spec.bpmn_id:
                counts = process.task_tree.internal_data.setdefault(PRUNED_KEY, {})
                counts[bpmn_id] = counts.get(bpmn_id, 0) + 1
            removed += 1
    return removed


def _pruned_counts(workflow: BpmnWorkflow) -> dict[str, int]:
    """How many completed tasks of each element were pruned, over all of the instance's trees."""
    total: dict[str, int] = {}
    for process in (workflow, *workflow.subprocesses.values()):
        for bpmn_id, count in process.task_tree.internal_data.get(PRUNED_KEY, {}).items():
            total[bpmn_id] = total.get(bpmn_id, 0) + count
    return total


def _check_pruned_counts(workflow: BpmnWorkflow, definition: ProcessDefinition) -> None:
    """Refuse stored counts of pruned tasks that are not positive whole numbers per element of
    this process: the process page prints them."""
    elements = {
        task_spec.bpmn_id
        for process in (definition.spec, *definition.subprocess_specs.values())
        for task_spec in process.task_specs.values()
    }
    for process in (workflow, *workflow.subprocesses.values()):
        counts = process.task_tree.internal_data.get(PRUNED_KEY, {})
        if not isinstance(counts, dict) or not all(
            isinstance(element, str) and element in elements and type(count) is int and count > 0
            for element, count in counts.items()
        ):
            raise unreadable("its counts of pruned tasks are malformed")


class ProcessRun:
    """One instance of a process definition, in memory."""

    prunes_history: ClassVar[bool] = True
    """Off only to measure what pruning saves (benchmarks/returns.py) and, in tests, to make the
    states that were stored before it."""

    def __init__(self, definition: ProcessDefinition, workflow: BpmnWorkflow) -> None:
        self.definition = definition
        self.workflow = workflow
        # Deserializing hands back SpiffWorkflow's default (eval) engine: always put ours back.
        self.workflow.script_engine = SAFE_ENGINE
        self.mark_saved()
        # Pruned after mark_saved, which must see what the projections were written from: a tree
        # stored before pruning and grown too deep for SpiffWorkflow to reach its open task shows
        # that task again once pruned, and the next save puts it back into the inbox.
        self._prune()

    def mark_saved(self) -> None:
        """Remember the tasks and timers as stored, so a save knows what changed since."""
        self.loaded_tasks = frozenset(task.id for task in self.human_tasks())
        self.loaded_timers = frozenset(timer.task_id for timer in self.timers())

    @classmethod
    def start(cls, definition: ProcessDefinition, data: dict[str, Any]) -> tuple[ProcessRun, list[str]]:
        """Start an instance with `data` as its process variables; returns it and the elements
        it passed on its way to the first wait."""
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SAFE_ENGINE)
        # Conditions and timers read task data, which starts from the root task's data.
        workflow.task_tree.data.update(data)
        run = cls(definition, workflow)
        return run, run._advance()

    @classmethod
    def load(cls, definition: ProcessDefinition, state: str, instance_id: object = None) -> ProcessRun:
        """Restore an instance from its stored state; anything unreadable is a StateError, named
        after `instance_id` when one is given."""
        try:
            return cls._load(definition, state)
        except StateError as exc:
            if instance_id is None:
                raise
            raise StateError(f"process instance {instance_id}: {exc}") from None

    @classmethod
    def _load(cls, definition: ProcessDefinition, state: str) -> ProcessRun:
        try:
            dct = json.loads(state)
        except RecursionError:
            raise unreadable(f"it is nested more than {MAX_STATE_DEPTH} levels deep") from None
        except ValueError:
            raise StateError("stored state is not JSON") from None
        if not isinstance(dct, dict):
            raise StateError("stored state is not an object")
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        if version != SERIALIZER_VERSION:
            raise StateError(
                f"stored state has serializer version {clip(repr(version))}; "
                f"planflow reads only {SERIALIZER_VERSION!r}"
            )
        if any(key in dct for key in _FORBIDDEN_KEYS):
            raise StateError("stored state carries a process definition; planflow keeps those apart")
        check_nesting(dct)
        check_task_graphs(dct)
        try:
            workflow = _SERIALIZER.from_dict(dct, definition=definition)
            if workflow.task_tree is None:
                raise ValueError("it has no task tree")
            workflow.get_tasks()  # walks every task: a broken structure fails here, not later
            _check_stored_timers(workflow)
            _check_pruned_counts(workflow, definition)
            return cls(definition, workflow)
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            OverflowError,  # e.g. a stored timedelta of 10**12 days
            RecursionError,
            SpiffWorkflowException,
        ) as exc:
            if isinstance(exc, StateError):
                raise
            raise unreadable(f"{type(exc).__name__}: {clip(str(exc))}") from None

    def dump(self) -> str:
        state: str = _SERIALIZER.serialize_json(self.workflow)
        return state

    @property
    def completed(self) -> bool:
        return bool(self.workflow.completed)

    @property
    def data(self) -> dict[str, Any]:
        """The process variables as the last finished step left them."""
        last = self.workflow.last_task
        return dict(last.data if last is not None else self.workflow.data)

    def human_tasks(self) -> list[HumanTask]:
        tasks = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            info = self.definition.user_tasks.get(task.task_spec.bpmn_id)
            if info is not None:
                tasks.append(HumanTask(str(task.id), info.name, info.title, info.lane))
        return tasks

    def progress(self) -> tuple[dict[str, int], set[str]]:
        """How many times each BPMN element has completed (a loop runs one more than once), and
        the elements under way now (ready or waiting): what a drawing of the instance marks."""
        done = _pruned_counts(self.workflow)
        current: set[str] = set()
        for task in self.workflow.get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                done[bpmn_id] = done.get(bpmn_id, 0) + 1
            elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                current.add(bpmn_id)
        return done, current

    def task_data(self, task_id: str) -> dict[str, Any]:
        return dict(self._ready_user_task(task_id).data)

    def timers(self) -> list[ArmedTimer]:
        armed = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            due = task._get_internal_data("event_value")
            if isinstance(definition, TimerEventDefinition) and isinstance(due, str):
                armed.append(ArmedTimer(str(task.id), task.task_spec.bpmn_id, timer_date(due)))
        return armed

    def complete(self, task_id: str, data: dict[str, Any], replaces: Iterable[str] = ()) -> list[str]:
        """Complete a ready user task with `data` (first dropping the keys in `replaces`, so an
        earlier round's answers do not linger); returns the elements passed afterwards."""
        task = self._ready_user_task(task_id)
        for key in replaces:
            task.data.pop(key, None)
        task.data.update(data)
        task.run()
        return self._advance()

    def signal(self, name: str) -> list[str]:
        """Deliver a signal the instance is waiting for."""
        try:
            self.workflow.send_event(BpmnEvent(SignalEventDefinition(name)))
        except WorkflowException:
            raise StateError(f"the instance is not waiting for {name!r}") from None
        return self._advance()

    def cancel(self) -> None:
        """End the instance where it stands: every task not finished (ready user tasks, armed
        timers) is cancelled, nothing more runs, and `completed` is true. For a process started
        by mistake (a cycle cancelled before anything of it was reported)."""
        self.workflow.cancel()

    def fire_due_timers(self) -> list[str]:
        """Let timers that are due (by planflow's clock) fire; returns the elements passed."""
        return self._advance()

    def _ready_user_task(self, task_id: str) -> Any:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException):
            task = None
        if task is None or not isinstance(task.task_spec, UserTask):
            raise StateError(f"no user task {task_id} in this instance")
        if task.state != TaskState.READY:
            raise StateError(f"task {task_id} is {TaskState.get_name(task.state).lower()}, not ready")
        return task

    def _advance(self) -> list[str]:
        passed: list[str] = []
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=lambda task: passed.append(task.task_spec.bpmn_id))
        self._prune()
        self._refuse_if_stuck()
        return [name for name in passed if name]

    def _prune(self) -> None:
        if self.prunes_history:
            _prune_history(self.workflow)

    def _refuse_if_stuck(self) -> None:
        """Refuse a step after which the instance, not finished, would wait on nothing, or on a
        task SpiffWorkflow cannot reach (its walks stop 1,000 levels down): saved, it would look
        as if all went well and never move again."""
        if self.workflow.completed:
            return
        live = [
            task
            for process in (self.workflow, *self.workflow.subprocesses.values())
            for task in process.tasks.values()
            if task.has_state(_LIVE)
        ]
        if not live:
            raise StuckError("the process would be left with nothing open or awaited")
        reachable = {task.id for task in self.workflow.get_tasks(state=_LIVE)}
        if any(task.id not in reachable for task in live):
            raise StuckError("the next task would be too deep in history to reach")
