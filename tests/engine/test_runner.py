"""Tests for running process instances: timers on planflow's clock, the spec-less stored state
and what a tampered one can (not) do, safe conditions at runtime, and the step API."""

from __future__ import annotations

import builtins
import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.migration import version_migration
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

from planflow import clock, resources
from planflow.engine import (
    ExpressionError,
    HumanTask,
    ProcessRun,
    SpecLibrary,
    StateError,
    runner,
    safety,
    specs,
)
from planflow.engine.runner import SERIALIZER_VERSION
from planflow.engine.safety import CLOCKED_TIMERS, SAFE_ENGINE

START = datetime(2026, 11, 1, 9, tzinfo=UTC)
RED = {"level": "red", "escalation_after": "P14D", "cause": "x"}
PAYLOAD = "__import__('os').system('id')"


# start -> a timer catch event `wait` due at the date in the data's `when` -> end.
_DATE_TIMER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="urn:planflow:test">
  <bpmn:process id="dated" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="wait_timer">
      <bpmn:timeDate xsi:type="bpmn:tFormalExpression">when</bpmn:timeDate>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def library() -> SpecLibrary:
    return SpecLibrary(resources.folder("workflows"))


@pytest.fixture
def os_system_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace os.system with a recorder, so a payload that got through is seen, not run."""
    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command) or 0)
    return calls


@pytest.fixture
def no_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the builtin eval and exec unusable: whatever needs them fails loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"eval/exec called with {args[:1]!r}")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)


def _only(run: ProcessRun, name: str | None = None) -> HumanTask:
    """The single ready human task (checking its name when given)."""
    tasks = run.human_tasks()
    assert len(tasks) == 1, tasks
    if name is not None:
        assert tasks[0].name == name
    return tasks[0]


def _start_deviation(library: SpecLibrary, data: dict[str, Any]) -> tuple[ProcessRun, list[str]]:
    with clock.frozen_at(START):
        return ProcessRun.start(library.current("deviation"), data)


def _spiffs_default_serializer() -> BpmnWorkflowSerializer:
    """SpiffWorkflow's default serializer, taught only planflow's clocked timer classes (it cannot
    write them otherwise): the baseline the spec-less state is measured against."""
    config = dict(DEFAULT_CONFIG)
    for clocked in CLOCKED_TIMERS.values():
        config[clocked] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def _tasks_in_state(state: str) -> dict[str, dict[str, Any]]:
    return dict(json.loads(state)["tasks"])


# -- timers on planflow's clock ---------------------------------------------------------------


def test_deviation_waits_on_draft_with_the_escalation_timer_armed_by_planflows_clock(
    library: SpecLibrary,
) -> None:
    run, passed = _start_deviation(library, RED)
    assert passed == ["deviation_reported", "handle_start"]
    assert _only(run, "draft_recommendation").lane == "process_leader"
    (timer,) = run.timers()
    assert timer.name == "escalation_timer"
    # START is weeks away from the wall clock: a timer armed by datetime.now() would differ.
    assert timer.due_at == START + timedelta(days=14)


def test_escalation_timer_does_not_fire_before_it_is_due(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    for early in (timedelta(days=13), timedelta(days=14) - timedelta(seconds=1)):
        with clock.frozen_at(START + early):
            assert run.fire_due_timers() == []
        assert [timer.name for timer in run.timers()] == ["escalation_timer"]
    _only(run, "draft_recommendation")


def test_red_deviation_escalates_when_due_and_the_draft_stays_open(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    draft = _only(run, "draft_recommendation")
    with clock.frozen_at(START + timedelta(days=14, seconds=1)):
        passed = run.fire_due_timers()
    assert passed == ["escalation_timer", "is_red", "deviation_escalated", "escalation_done"]
    assert "no_escalation" not in passed
    # The timer does not interrupt: the same human task is still waiting.
    assert run.human_tasks() == [draft]
    assert run.timers() == []
    assert not run.completed


def test_yellow_deviation_passes_no_escalation_when_due(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, {**RED, "level": "yellow"})
    with clock.frozen_at(START + timedelta(days=14, seconds=1)):
        passed = run.fire_due_timers()
    assert passed == ["escalation_timer", "is_red", "no_escalation"]
    _only(run, "draft_recommendation")


def test_escalation_timer_fires_at_exactly_its_due_time(library: SpecLibrary) -> None:
    """The scheduler picks timers with due_at <= now, so the engine must fire at due_at itself
    (SpiffWorkflow's own timers wait until strictly after)."""
    run, _ = _start_deviation(library, RED)
    (timer,) = run.timers()
    with clock.frozen_at(timer.due_at):
        assert run.fire_due_timers()[0] == "escalation_timer"


def test_escalation_timer_lapses_when_the_decision_comes_first(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    with clock.frozen_at(START + timedelta(days=2)):
        run.complete(_only(run, "draft_recommendation").id, {"recommendation": "r"})
        run.complete(_only(run, "agree_recommendation").id, {"outcome": "agree"})
        passed = run.complete(_only(run, "steering_decision").id, {"decision": "approve", "rationale": "ok"})
    assert passed[-2:] == ["owner_informed", "deviation_closed"]
    assert run.completed
    assert run.timers() == []
    with clock.frozen_at(START + timedelta(days=30)):
        assert run.fire_due_timers() == []


@pytest.mark.parametrize(
    ("escalation_after", "message"),
    [
        ("P11Y", "longer than MAX_TIMER_DAYS"),
        ("P121M", "longer than MAX_TIMER_DAYS"),
        ("P10000000M", "longer than MAX_TIMER_DAYS"),
        ("P3721D", "longer than MAX_TIMER_DAYS"),
        ("PT90000H", "longer than MAX_TIMER_DAYS"),
        ("P14", "not an ISO 8601 duration"),
        ("P" + "9" * 5000 + "D", "longer than 64 characters"),
        (14, "not int"),
    ],
)
def test_a_duration_from_data_out_of_bounds_is_refused_when_the_timer_is_armed(
    library: SpecLibrary, escalation_after: object, message: str
) -> None:
    with pytest.raises(ExpressionError, match="^timer escalation_timer: .*" + message):
        _start_deviation(library, {**RED, "escalation_after": escalation_after})


def test_a_duration_from_data_due_after_2100_is_refused_when_the_timer_is_armed(library: SpecLibrary) -> None:
    with clock.frozen_at(datetime(2095, 1, 1, tzinfo=UTC)):
        with pytest.raises(ExpressionError, match="due outside 2000-2100"):
            ProcessRun.start(library.current("deviation"), {**RED, "escalation_after": "P6Y"})
        run, _ = ProcessRun.start(library.current("deviation"), {**RED, "escalation_after": "P5Y"})
    assert run.timers()[0].due_at == datetime(2100, 1, 1, tzinfo=UTC)  # 2100 is in the range


@pytest.mark.parametrize("when", ["2300-01-01T00:00:00+00:00", "1970-01-01", "someday", "P1D"])
def test_a_date_from_data_out_of_bounds_is_refused_when_the_timer_is_armed(when: str) -> None:
    definition = specs.parse(_DATE_TIMER, "date.bpmn")
    with pytest.raises(ExpressionError, match="^timer wait: "):
        ProcessRun.start(definition, {"when": when})
    run, _ = ProcessRun.start(definition, {"when": "2027-01-01T09:00:00+00:00"})
    assert run.timers()[0].due_at == datetime(2027, 1, 1, 9, tzinfo=UTC)


# -- stored state -----------------------------------------------------------------------------


def test_dump_and_load_keep_human_tasks_timers_and_data(library: SpecLibrary) -> None:
    definition = library.current("deviation")
    run, _ = _start_deviation(library, RED)
    with clock.frozen_at(START + timedelta(days=1)):
        run.complete(_only(run, "draft_recommendation").id, {"recommendation": "r"})
    state = run.dump()

    loaded = ProcessRun.load(definition, state)

    assert loaded.human_tasks() == run.human_tasks()
    assert loaded.timers() == run.timers()
    assert loaded.timers()[0].due_at == START + timedelta(days=14)
    agree = _only(loaded, "agree_recommendation")
    assert loaded.task_data(agree.id) == {**RED, "recommendation": "r"}
    assert loaded.dump() == state
    # The loaded instance runs on: its timer fires when due.
    with clock.frozen_at(START + timedelta(days=14, seconds=1)):
        assert "deviation_escalated" in loaded.fire_due_timers()
    assert loaded.human_tasks() == [agree]


def _timer_task(state: dict[str, Any]) -> dict[str, Any]:
    (task,) = [task for task in state["tasks"].values() if "event_value" in task["internal_data"]]
    return task  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "event_value", ["2300-01-01T00:00:00+00:00", "9999-12-31T23:59:59", "garbage", 12, ["x"], "2" * 100]
)
def test_a_stored_timer_out_of_range_or_garbage_is_refused_at_load(
    library: SpecLibrary, event_value: object
) -> None:
    run, _ = _start_deviation(library, RED)
    state = json.loads(run.dump())
    _timer_task(state)["internal_data"]["event_value"] = event_value
    with pytest.raises(StateError, match="^stored timer escalation_timer: "):
        ProcessRun.load(library.current("deviation"), json.dumps(state))


def test_dumped_state_carries_no_spec(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    state = json.loads(run.dump())
    assert "spec" not in state
    assert "subprocess_specs" not in state
    assert state["serializer_version"] == SERIALIZER_VERSION


def test_dumped_state_is_much_smaller_than_spiffworkflows_default(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    ours = len(run.dump())
    theirs = len(BpmnWorkflowSerializer().serialize_json(run.workflow))
    print(f"activity_report: planflow {ours} bytes, SpiffWorkflow default {theirs} bytes")
    assert ours < 0.6 * theirs


def test_dumped_state_of_a_timer_process_is_much_smaller_than_spiffworkflows_default(
    library: SpecLibrary,
) -> None:
    run, _ = _start_deviation(library, RED)
    ours = len(run.dump())
    theirs = len(_spiffs_default_serializer().serialize_json(run.workflow))
    print(f"deviation: planflow {ours} bytes, SpiffWorkflow default {theirs} bytes")
    assert ours < 0.6 * theirs


def test_a_loaded_instance_runs_on_the_safe_script_engine(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    loaded = ProcessRun.load(library.current("deviation"), run.dump())
    assert loaded.workflow.script_engine is SAFE_ENGINE
    # Sub-processes ask the top workflow for theirs.
    assert loaded.workflow.subprocesses
    for subprocess in loaded.workflow.subprocesses.values():
        assert subprocess.script_engine is SAFE_ENGINE


@pytest.fixture
def migration_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace each of SpiffWorkflow's migrations (which run eval on old state) by a recorder."""
    calls: list[str] = []
    for version in list(version_migration.MIGRATIONS):
        monkeypatch.setitem(
            version_migration.MIGRATIONS, version, lambda dct, version=version: calls.append(version)
        )
    return calls


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", None])
def test_state_of_another_serializer_version_is_refused_before_any_migration(
    library: SpecLibrary,
    version: str | None,
    migration_calls: list[str],
    os_system_calls: list[str],
    no_eval: None,
) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    state = json.loads(run.dump())
    if version is None:
        del state["serializer_version"]
    else:
        state["serializer_version"] = version
    with pytest.raises(StateError, match="serializer version"):
        ProcessRun.load(library.current("activity_report"), json.dumps(state))
    assert migration_calls == []
    assert os_system_calls == []


def test_the_migration_recorder_sees_spiffworkflows_own_migration(migration_calls: list[str]) -> None:
    """Control for the test above: the recorder is where SpiffWorkflow's serializer looks."""
    BpmnWorkflowSerializer().migrate({"serializer_version": "1.0"})
    assert migration_calls == ["1.0"]


@pytest.mark.parametrize("key", ["spec", "subprocess_specs"])
def test_state_carrying_a_process_definition_is_refused(
    library: SpecLibrary, key: str, os_system_calls: list[str]
) -> None:
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    state = json.loads(run.dump())
    state[key] = json.loads(_spiffs_default_serializer().serialize_json(run.workflow))[key]
    with pytest.raises(StateError, match="carries a process definition"):
        ProcessRun.load(definition, json.dumps(state))
    assert os_system_calls == []


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "not an object"),
        ("null", "not an object"),
        ('"planflow-1"', "not an object"),
    ],
)
def test_state_that_is_not_a_json_object_is_refused(library: SpecLibrary, state: str, message: str) -> None:
    with pytest.raises(StateError, match=message):
        ProcessRun.load(library.current("activity_report"), state)


def test_state_of_another_process_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    with pytest.raises(StateError, match="cannot be read"):
        ProcessRun.load(library.current("deviation"), run.dump())


def test_state_missing_its_task_tree_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    state = json.loads(run.dump())
    del state["tasks"]
    with pytest.raises(StateError, match="cannot be read"):
        ProcessRun.load(library.current("activity_report"), json.dumps(state))


@pytest.mark.parametrize("tamper", ["unknown root", "no tasks"])
def test_state_whose_root_task_is_missing_is_refused_at_load(library: SpecLibrary, tamper: str) -> None:
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    state = json.loads(run.dump())
    if tamper == "unknown root":
        state["root"] = str(uuid.uuid4())
    else:
        state["tasks"] = {}
    with pytest.raises(StateError, match="cannot be read"):
        ProcessRun.load(definition, json.dumps(state))


@pytest.fixture
def spiffworkflow_never_sees_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if the state reaches SpiffWorkflow: a refusal must come before its walk,
    which on a cyclic task tree would never end."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the stored state was handed to SpiffWorkflow")

    monkeypatch.setattr(runner._SERIALIZER, "from_dict", refuse)


def _root(graph: dict[str, Any]) -> dict[str, Any]:
    return graph["tasks"][graph["root"]]  # type: ignore[no-any-return]


def _first_child(graph: dict[str, Any]) -> dict[str, Any]:
    return graph["tasks"][_root(graph)["children"][0]]  # type: ignore[no-any-return]


def _root_lists_itself(state: dict[str, Any]) -> None:
    _root(state)["children"].append(state["root"])


def _child_lists_the_root(state: dict[str, Any]) -> None:
    _first_child(state)["children"].append(state["root"])


def _child_lists_itself(state: dict[str, Any]) -> None:
    child = _first_child(state)
    child["children"].append(child["id"])


def _two_parents_share_a_child(state: dict[str, Any]) -> None:
    child = _first_child(state)
    _root(state)["children"].append(child["children"][0])


def _detached_loop(state: dict[str, Any]) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    state["tasks"][first] = {**_first_child(state), "id": first, "parent": second, "children": [second]}
    state["tasks"][second] = {**_first_child(state), "id": second, "parent": first, "children": [first]}


def _parent_mismatch(state: dict[str, Any]) -> None:
    _first_child(state)["parent"] = str(uuid.uuid4())


def _root_has_a_parent(state: dict[str, Any]) -> None:
    _root(state)["parent"] = _root(state)["children"][0]


def _sub_process_root_lists_itself(state: dict[str, Any]) -> None:
    (sub,) = state["subprocesses"].values()
    _root_lists_itself(sub)


def _sub_process_reuses_a_top_task_id(state: dict[str, Any]) -> None:
    (sub,) = state["subprocesses"].values()
    child = _first_child(sub)
    duplicate = state["root"]
    del sub["tasks"][child["id"]]
    _root(sub)["children"][0] = duplicate
    sub["tasks"][duplicate] = {**child, "id": duplicate}


def _too_many_tasks(state: dict[str, Any]) -> None:
    for _ in range(runner.MAX_TASKS):
        state["tasks"][str(uuid.uuid4())] = {}


@pytest.mark.parametrize(
    "tamper",
    [
        _root_lists_itself,
        _child_lists_the_root,
        _child_lists_itself,
        _two_parents_share_a_child,
        _detached_loop,
        _parent_mismatch,
        _root_has_a_parent,
        _sub_process_root_lists_itself,
        _sub_process_reuses_a_top_task_id,
        _too_many_tasks,
    ],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
def test_a_stored_task_graph_that_is_not_a_tree_is_refused_before_spiffworkflow_walks_it(
    library: SpecLibrary, tamper: Callable[[dict[str, Any]], None], spiffworkflow_never_sees_the_state: None
) -> None:
    run, _ = _start_deviation(library, RED)
    state = json.loads(run.dump())
    tamper(state)
    with pytest.raises(StateError, match="^stored state cannot be read: "):
        ProcessRun.load(library.current("deviation"), json.dumps(state))


def test_the_untampered_state_passes_the_task_graph_check(library: SpecLibrary) -> None:
    """Control for the test above: the refusals are for the tampering."""
    run, _ = _start_deviation(library, RED)
    assert ProcessRun.load(library.current("deviation"), run.dump()).human_tasks() == run.human_tasks()


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda state: _root(state)["data"].update(deep=_nested(500)), "nested more than 100 levels"),
        (
            lambda state: _root(state)["data"].update(
                late={"typename": "timedelta", "days": 10**12, "seconds": 0}
            ),
            "OverflowError",
        ),
        (
            lambda state: _root(state)["data"].update(when={"typename": "datetime", "value": "x" * 100_000}),
            "ValueError",
        ),
        (lambda state: state.update(serializer_version="x" * 100_000), "serializer version"),
        (lambda state: _timer_task(state)["internal_data"].update(event_value="y" * 100_000), "stored timer"),
    ],
    ids=["deep data", "timedelta overflow", "long bad datetime", "long version", "long timer value"],
)
def test_unreadable_stored_values_are_refused_with_a_short_message(
    library: SpecLibrary, tamper: Callable[[dict[str, Any]], None], message: str
) -> None:
    run, _ = _start_deviation(library, RED)
    state = json.loads(run.dump())
    tamper(state)
    with pytest.raises(StateError, match=message) as raised:
        ProcessRun.load(library.current("deviation"), json.dumps(state))
    assert len(str(raised.value)) < 250


def test_state_nested_past_the_json_parsers_limit_is_refused(library: SpecLibrary) -> None:
    state = '{"serializer_version": "planflow-1", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(StateError, match="nested more than 100 levels"):
        ProcessRun.load(library.current("deviation"), state)


def test_a_refusal_names_the_instance_when_told_which(library: SpecLibrary) -> None:
    with pytest.raises(StateError, match="^process instance 42: stored state is not JSON$"):
        ProcessRun.load(library.current("deviation"), "not json", instance_id=42)


def test_code_in_stored_task_data_is_only_ever_data(
    library: SpecLibrary, os_system_calls: list[str], no_eval: None
) -> None:
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    run.complete(_only(run, "report_status").id, {"status": "green"})
    state = json.loads(run.dump())
    review_id = _only(run, "review_report").id
    # Put the payload where the gateway condition reads it, under a key nothing reads, and into
    # the workflow's own data.
    state["tasks"][review_id]["delta"]["updates"].update(outcome=PAYLOAD, note=PAYLOAD)
    state["data"] = {"note": PAYLOAD}

    loaded = ProcessRun.load(definition, json.dumps(state))

    assert loaded.task_data(review_id) == {"status": "green", "outcome": PAYLOAD, "note": PAYLOAD}
    # `outcome == "return"` compares the text; it is not "return", so the default flow is taken.
    assert loaded.complete(review_id, {}) == ["review_outcome", "report_accepted"]
    assert loaded.completed
    assert loaded.data["outcome"] == PAYLOAD
    assert os_system_calls == []


# -- safe conditions at runtime ---------------------------------------------------------------


def test_gateway_conditions_are_evaluated_by_the_safe_evaluator(
    library: SpecLibrary, monkeypatch: pytest.MonkeyPatch, no_eval: None
) -> None:
    evaluated: list[str] = []
    real_evaluate: Callable[[str, Any], Any] = safety.evaluate

    def recording_evaluate(expression: str, context: Any) -> Any:
        evaluated.append(expression.strip())
        return real_evaluate(expression, context)

    monkeypatch.setattr(safety, "evaluate", recording_evaluate)
    run, _ = ProcessRun.start(library.current("activity_report"), {})

    run.complete(_only(run, "report_status").id, {"status": "yellow", "cause": "late"})
    assert run.complete(_only(run, "review_report").id, {"outcome": "return", "comment": "fix"}) == [
        "review_outcome",
        "report_returned",
    ]
    run.complete(_only(run, "report_status").id, {"status": "green"})
    passed = run.complete(_only(run, "review_report").id, {"outcome": "accept"}, replaces=["comment"])

    assert passed == ["review_outcome", "report_accepted"]
    assert run.completed
    assert run.human_tasks() == []
    assert evaluated == ['outcome == "return"', 'outcome == "return"']


def test_gateway_conditions_inside_a_subprocess_are_evaluated_safely_after_load(
    library: SpecLibrary, no_eval: None
) -> None:
    definition = library.current("deviation")
    run, _ = _start_deviation(library, RED)
    run.complete(_only(run, "draft_recommendation").id, {"recommendation": "r"})
    loaded = ProcessRun.load(definition, run.dump())
    assert loaded.complete(
        _only(loaded, "agree_recommendation").id, {"outcome": "return", "comment": "c"}
    ) == ["agree_outcome", "recommendation_returned"]
    _only(loaded, "draft_recommendation")


# -- the step API -----------------------------------------------------------------------------


def test_completing_a_task_twice_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    report = _only(run, "report_status")
    run.complete(report.id, {"status": "green"})
    review = _only(run, "review_report")
    with pytest.raises(StateError, match="is completed, not ready"):
        run.complete(report.id, {"status": "red"})
    assert run.human_tasks() == [review]
    assert run.task_data(review.id) == {"status": "green"}


@pytest.mark.parametrize("task_id", ["44b54d29-7530-4641-ab82-bf0e0d44cd11", "not-a-uuid", ""])
def test_completing_an_unknown_task_is_refused(library: SpecLibrary, task_id: str) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    before = run.human_tasks()
    with pytest.raises(StateError, match="no user task"):
        run.complete(task_id, {})
    with pytest.raises(StateError, match="no user task"):
        run.task_data(task_id)
    assert run.human_tasks() == before


def test_completing_a_user_task_that_is_not_reached_yet_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    predicted = [task for task in run.workflow.get_tasks() if task.task_spec.bpmn_id == "review_report"]
    assert predicted
    for task in predicted:
        with pytest.raises(StateError, match="not ready"):
            run.complete(str(task.id), {"outcome": "accept"})
    _only(run, "report_status")


def test_completing_a_task_that_is_not_a_user_task_is_refused(library: SpecLibrary) -> None:
    run, _ = _start_deviation(library, RED)
    (timer,) = run.timers()
    with pytest.raises(StateError, match="no user task"):
        run.complete(timer.task_id, {})
    assert run.timers() == [timer]


def test_reporting_cycle_waits_for_its_signal_then_offers_business_dialogue(library: SpecLibrary) -> None:
    run, passed = ProcessRun.start(library.current("reporting_cycle"), {})
    assert passed == ["cycle_start"]
    assert run.human_tasks() == []

    assert run.signal("all_areas_confirmed") == ["all_areas_confirmed"]

    assert _only(run, "business_dialogue").lane == "process_leader"


def test_a_signal_nobody_waits_for_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("reporting_cycle"), {})
    with pytest.raises(StateError, match="not waiting for 'nobody_listens'"):
        run.signal("nobody_listens")
    # Still waiting for the real one.
    assert run.signal("all_areas_confirmed") == ["all_areas_confirmed"]
    # ...which, once caught, is not waited for again.
    with pytest.raises(StateError, match="not waiting for 'all_areas_confirmed'"):
        run.signal("all_areas_confirmed")


def test_a_signal_to_a_process_without_signal_events_is_refused(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    with pytest.raises(StateError, match="not waiting for 'all_areas_confirmed'"):
        run.signal("all_areas_confirmed")
    _only(run, "report_status")


def _return_then_report_again(run: ProcessRun) -> HumanTask:
    run.complete(_only(run, "report_status").id, {"status": "yellow", "cause": "late"})
    run.complete(_only(run, "review_report").id, {"outcome": "return", "comment": "fix"})
    run.complete(_only(run, "report_status").id, {"status": "green"})
    return _only(run, "review_report")


def test_complete_with_replaces_drops_the_earlier_rounds_answers(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    review = _return_then_report_again(run)
    assert run.task_data(review.id)["comment"] == "fix"

    run.complete(review.id, {"outcome": "accept"}, replaces=["outcome", "comment"])

    assert run.completed
    assert run.data == {"status": "green", "cause": "late", "outcome": "accept"}


def test_complete_without_replaces_keeps_the_earlier_rounds_answers(library: SpecLibrary) -> None:
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    review = _return_then_report_again(run)

    run.complete(review.id, {"outcome": "accept"})

    assert run.completed
    assert run.data["comment"] == "fix"
