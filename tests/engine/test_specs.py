"""Tests for loading and checking process specs: the shipped workflows/, and diagrams that try
to smuggle code in through conditions, timers or scripts."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from planflow import resources
from planflow.engine import specs
from planflow.engine.forms import FormLibrary
from planflow.engine.safety import ClockedDuration, ClockedTimeDate
from planflow.engine.specs import LANES, ProcessDefinition, SpecError, SpecLibrary, content_hash

WORKFLOWS = resources.folder("workflows")
PROCESSES = {
    "activity_report",
    "area_reconciliation",
    "reporting_cycle",
    "deviation",
    "activity_proposal",
    "annual_report",
}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# The exact text of the gateway condition in activity_report.bpmn and of the escalation timer's
# duration in deviation.bpmn; the tests below check that each occurs exactly once.
RETURN_CONDITION = 'outcome == "return"'
ESCALATION_DURATION = (
    '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">escalation_after</bpmn:timeDuration>'
)

MALICIOUS = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
]


def _source(name: str) -> str:
    return (WORKFLOWS / name).read_text(encoding="utf-8")


def _replace_once(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"expected {old!r} exactly once"
    return source.replace(old, new)


def _minimal(body: str) -> str:
    """A one-process BPMN file around `body` (flow nodes and sequence flows)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="definitions_test"'
        ' targetNamespace="urn:planflow:test">\n'
        f'  <bpmn:process id="test_process" isExecutable="true">\n{body}\n  </bpmn:process>\n'
        "</bpmn:definitions>\n"
    )


def _flow(flow_id: str, source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />'


def _timer_catch(definition: str) -> str:
    """start -> intermediate timer catch event `wait` (with `definition` inside) -> end."""
    return _minimal(
        '<bpmn:startEvent id="start" />'
        f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="wait_timer">{definition}'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end" />' + _flow("f1", "start", "wait") + _flow("f2", "wait", "end")
    )


def _task_specs(definition: ProcessDefinition) -> Iterator[Any]:
    for process in (definition.spec, *definition.subprocess_specs.values()):
        yield from process.task_specs.values()


@pytest.fixture(scope="module")
def library() -> SpecLibrary:
    return SpecLibrary(WORKFLOWS)


@pytest.fixture
def os_system_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace os.system with a recorder, so a payload that got through is seen, not run."""
    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command) or 0)
    return calls


# -- the shipped workflows --------------------------------------------------------------------


def test_library_loads_the_six_processes_of_workflows(library: SpecLibrary) -> None:
    assert {definition.process_id for definition in library.processes} == PROCESSES
    for process_id in PROCESSES:
        definition = library.current(process_id)
        assert definition.filename == f"{process_id}.bpmn"
        assert definition.hash == content_hash(_source(definition.filename))


def test_library_refuses_an_unknown_process(library: SpecLibrary) -> None:
    with pytest.raises(SpecError, match="no process 'nope'"):
        library.current("nope")


def test_every_user_task_in_the_files_is_known_with_a_role_lane_and_a_form(library: SpecLibrary) -> None:
    """Read the XML independently of the parser: every userTask sits in a lane named for a role,
    has a form, and the library reports it with that lane."""
    known = {name: info for definition in library.processes for name, info in definition.user_tasks.items()}
    seen: set[str] = set()
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        root = ET.parse(path).getroot()
        lane_of = {
            ref.text.strip(): lane.get("name")
            for lane in root.iter(f"{BPMN}lane")
            for ref in lane.iter(f"{BPMN}flowNodeRef")
            if ref.text
        }
        for task in root.iter(f"{BPMN}userTask"):
            task_id = task.get("id")
            assert task_id is not None
            seen.add(task_id)
            assert lane_of.get(task_id) in LANES, f"{path.name}: {task_id} is not in a role's lane"
            assert (WORKFLOWS / "forms" / f"{task_id}.json").is_file(), f"{path.name}: {task_id} has no form"
            assert task_id in library.forms
            assert known[task_id].lane == lane_of[task_id]
    assert seen == set(known)
    assert len(seen) == 15


@pytest.mark.parametrize("path", sorted((WORKFLOWS / "forms").glob("*.json")), ids=lambda path: path.stem)
def test_every_form_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema.get("$schema") == DRAFT_2020_12
    Draft202012Validator.check_schema(schema)


def test_every_form_belongs_to_a_user_task_except_dialogue_feedback(library: SpecLibrary) -> None:
    forms = {path.stem for path in (WORKFLOWS / "forms").glob("*.json")}
    user_tasks = {name for definition in library.processes for name in definition.user_tasks}
    assert forms - user_tasks == {"dialogue_feedback"}
    assert user_tasks <= forms


def test_timers_of_loaded_specs_read_planflows_clock(library: SpecLibrary) -> None:
    timers = [
        (definition.process_id, task_spec.bpmn_id, task_spec.event_definition)
        for definition in library.processes
        for task_spec in _task_specs(definition)
        if isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
    ]
    assert [(process_id, name) for process_id, name, _ in timers] == [("deviation", "escalation_timer")]
    for _, _, event_definition in timers:
        assert type(event_definition) is ClockedDuration
        assert event_definition.expression == "escalation_after"


def test_a_time_date_timer_is_swapped_for_the_clocked_one() -> None:
    definition = specs.parse(
        _timer_catch(
            '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-12-01T09:00:00+00:00"</bpmn:timeDate>'
        ),
        "date.bpmn",
    )
    (wait,) = [task_spec for task_spec in _task_specs(definition) if task_spec.bpmn_id == "wait"]
    assert type(wait.event_definition) is ClockedTimeDate


# -- timers that would wait too long ---------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "value", "message"),
    [
        ("timeDuration", '"P11Y"', "longer than MAX_TIMER_DAYS"),
        ("timeDuration", '"P10000000M"', "longer than MAX_TIMER_DAYS"),
        ("timeDuration", '"P999999999Y"', "longer than MAX_TIMER_DAYS"),
        ("timeDuration", '"P" + "3720D"', "arithmetic is not allowed"),
        ("timeDuration", '"soon"', "not an ISO 8601 duration"),
        ("timeDuration", "14", "not int"),
        ("timeDate", '"2101-01-01T00:00:00+00:00"', "outside 2000-2100"),
        ("timeDate", '"2100-12-31T20:00:00-05:00"', "outside 2000-2100"),  # 2101 in UTC
        ("timeDate", '"1999-12-31T23:00:00+00:00"', "outside 2000-2100"),
        ("timeDate", '"tomorrow"', "not an ISO 8601 date"),
        ("timeDate", '"P1D"', "needs a date, not the duration"),
    ],
)
def test_a_timer_with_a_constant_out_of_bounds_is_refused_at_load(
    element: str, value: str, message: str
) -> None:
    source = _timer_catch(f'<bpmn:{element} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{element}>')
    with pytest.raises(SpecError, match=r"^long\.bpmn: wait: .*" + message):
        specs.parse(source, "long.bpmn")


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("timeDuration", '"P10Y"'),
        ("timeDuration", '"P120M"'),
        ("timeDuration", '"P3720D"'),
        ("timeDuration", "escalation_after"),  # from data: checked when armed
        ("timeDate", '"2100-12-31T23:59:59+00:00"'),
        ("timeDate", '"2000-01-01T00:00:00+00:00"'),
        ("timeDate", '"2026-W48-1"'),
    ],
)
def test_a_timer_within_bounds_loads(element: str, value: str) -> None:
    source = _timer_catch(f'<bpmn:{element} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{element}>')
    assert specs.parse(source, "ok.bpmn").process_id == "test_process"


# -- code smuggled into a diagram -------------------------------------------------------------


@pytest.mark.parametrize("payload", MALICIOUS)
def test_a_malicious_gateway_condition_is_refused_at_load_and_runs_nothing(
    payload: str, os_system_calls: list[str]
) -> None:
    source = _replace_once(_source("activity_report.bpmn"), RETURN_CONDITION, payload)
    with pytest.raises(SpecError) as raised:
        specs.parse(source, "evil.bpmn")
    message = str(raised.value)
    assert message.startswith("evil.bpmn: review_outcome: ")
    assert "not allowed" in message
    assert os_system_calls == []


@pytest.mark.parametrize("payload", MALICIOUS)
def test_a_malicious_boundary_timer_expression_is_refused_at_load_and_runs_nothing(
    payload: str, os_system_calls: list[str]
) -> None:
    source = _replace_once(
        _source("deviation.bpmn"),
        ESCALATION_DURATION,
        f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{payload}</bpmn:timeDuration>',
    )
    with pytest.raises(SpecError) as raised:
        specs.parse(source, "evil.bpmn")
    assert str(raised.value).startswith("evil.bpmn: escalation_timer: ")
    assert os_system_calls == []


@pytest.mark.parametrize("element", ["timeDuration", "timeDate"])
@pytest.mark.parametrize("payload", MALICIOUS)
def test_a_malicious_intermediate_timer_expression_is_refused_at_load_and_runs_nothing(
    element: str, payload: str, os_system_calls: list[str]
) -> None:
    source = _timer_catch(f'<bpmn:{element} xsi:type="bpmn:tFormalExpression">{payload}</bpmn:{element}>')
    with pytest.raises(SpecError) as raised:
        specs.parse(source, "evil.bpmn")
    assert str(raised.value).startswith("evil.bpmn: wait: ")
    assert os_system_calls == []


def _correlated_message(retrieval: str) -> str:
    """start -> catch message `answer` (correlated by the property `case_id`) -> end."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="definitions_test"'
        ' targetNamespace="urn:planflow:test">\n'
        '<bpmn:message id="answer" name="answer" />'
        '<bpmn:collaboration id="collaboration">'
        '<bpmn:participant id="participant" processRef="test_process" />'
        '<bpmn:correlationKey name="case_key">'
        "<bpmn:correlationPropertyRef>case_id</bpmn:correlationPropertyRef>"
        "</bpmn:correlationKey></bpmn:collaboration>"
        '<bpmn:correlationProperty id="case_id" name="case id">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="answer">'
        f"<bpmn:formalExpression>{retrieval}</bpmn:formalExpression>"
        "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
        '<bpmn:process id="test_process" isExecutable="true"><bpmn:startEvent id="start" />'
        '<bpmn:intermediateCatchEvent id="receive_answer">'
        '<bpmn:messageEventDefinition id="answer_definition" messageRef="answer" />'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end" />'
        + _flow("f1", "start", "receive_answer")
        + _flow("f2", "receive_answer", "end")
        + "</bpmn:process></bpmn:definitions>\n"
    )


def _ad_hoc_subprocess(condition: str) -> str:
    """start -> ad-hoc sub-process `gather` (done when `condition` holds) -> end."""
    return _minimal(
        '<bpmn:startEvent id="start" /><bpmn:adHocSubProcess id="gather"><bpmn:manualTask id="note" />'
        f'<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{condition}</bpmn:completionCondition>'
        '</bpmn:adHocSubProcess><bpmn:endEvent id="end" />'
        + _flow("f1", "start", "gather")
        + _flow("f2", "gather", "end")
    )


@pytest.mark.parametrize("payload", MALICIOUS)
def test_a_malicious_correlation_retrieval_expression_is_refused_at_load_and_runs_nothing(
    payload: str, os_system_calls: list[str]
) -> None:
    with pytest.raises(SpecError, match=r"^evil\.bpmn: case_id: .*not allowed"):
        specs.parse(_correlated_message(payload), "evil.bpmn")
    assert os_system_calls == []


@pytest.mark.parametrize("payload", MALICIOUS)
def test_a_malicious_ad_hoc_completion_condition_is_refused_at_load_and_runs_nothing(
    payload: str, os_system_calls: list[str]
) -> None:
    with pytest.raises(SpecError, match=r"^evil\.bpmn: gather: .*not allowed"):
        specs.parse(_ad_hoc_subprocess(payload), "evil.bpmn")
    assert os_system_calls == []


def test_safe_correlation_and_completion_expressions_load() -> None:
    """The refusals above are for the payload, not for how the diagrams were built."""
    assert specs.parse(_correlated_message("case_id"), "ok.bpmn").process_id == "test_process"
    assert specs.parse(_ad_hoc_subprocess("done == True"), "ok.bpmn").process_id == "test_process"


def test_the_unaltered_sources_of_the_malicious_diagrams_load() -> None:
    """The refusals above are for the payload, not for how the diagrams were built."""
    assert specs.parse(_source("activity_report.bpmn"), "evil.bpmn").process_id == "activity_report"
    assert specs.parse(_source("deviation.bpmn"), "evil.bpmn").process_id == "deviation"
    assert (
        specs.parse(
            _timer_catch('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>'),
            "ok.bpmn",
        ).process_id
        == "test_process"
    )


def test_a_script_task_is_refused_at_load() -> None:
    source = _minimal(
        '<bpmn:startEvent id="start" />'
        '<bpmn:scriptTask id="set_x" scriptFormat="python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="end" />' + _flow("f1", "start", "set_x") + _flow("f2", "set_x", "end")
    )
    with pytest.raises(SpecError, match=r"^script\.bpmn: set_x: script and service tasks are not allowed"):
        specs.parse(source, "script.bpmn")


def test_a_cycle_timer_on_a_boundary_event_is_refused() -> None:
    source = _replace_once(
        _source("deviation.bpmn"),
        ESCALATION_DURATION,
        '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/PT1H"</bpmn:timeCycle>',
    )
    with pytest.raises(SpecError, match=r"^cycle\.bpmn: escalation_timer: cycle timers are not supported"):
        specs.parse(source, "cycle.bpmn")


def test_a_cycle_timer_start_event_is_refused() -> None:
    source = _minimal(
        '<bpmn:startEvent id="start"><bpmn:timerEventDefinition id="start_timer">'
        '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R/P1D"</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition></bpmn:startEvent>"
        '<bpmn:endEvent id="end" />' + _flow("f1", "start", "end")
    )
    with pytest.raises(SpecError, match=r"^cycle\.bpmn: start: cycle timers are not supported"):
        specs.parse(source, "cycle.bpmn")


def test_a_user_task_outside_a_role_lane_is_refused() -> None:
    source = _replace_once(
        _source("activity_report.bpmn"), 'name="focus_area_lead"', 'name="Fokusområdesansvarig"'
    )
    with pytest.raises(
        SpecError, match=r"^bad\.bpmn: review_report: lane 'Fokusområdesansvarig' is not a role"
    ):
        specs.parse(source, "bad.bpmn")


def test_a_user_task_without_a_form_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^activity_report\.bpmn: report_status: no form"):
        specs.parse(_source("activity_report.bpmn"), "activity_report.bpmn", FormLibrary(tmp_path))


def test_a_file_that_is_not_bpmn_is_refused_naming_the_file() -> None:
    with pytest.raises(SpecError, match=r"^broken\.bpmn: "):
        specs.parse("<not-bpmn", "broken.bpmn")


def test_a_library_folder_holding_a_malicious_diagram_is_refused(
    tmp_path: Path, os_system_calls: list[str]
) -> None:
    (tmp_path / "forms").mkdir()
    for form in (WORKFLOWS / "forms").glob("*.json"):
        (tmp_path / "forms" / form.name).write_text(form.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "activity_report.bpmn").write_text(
        _replace_once(_source("activity_report.bpmn"), RETURN_CONDITION, MALICIOUS[0]), encoding="utf-8"
    )
    with pytest.raises(SpecError, match=r"^activity_report\.bpmn: review_outcome: "):
        SpecLibrary(tmp_path)
    assert os_system_calls == []


# -- older versions by hash -------------------------------------------------------------------


def _older_activity_report() -> str:
    """activity_report.bpmn as it might have been before: same process, different text."""
    return _replace_once(_source("activity_report.bpmn"), 'name="Granska rapport"', 'name="Granska"')


class _StoredSources:
    """Stands in for the database of spec sources, counting lookups."""

    def __init__(self, sources: dict[str, tuple[str, str]]) -> None:
        self.sources = sources
        self.calls: list[str] = []

    def __call__(self, spec_hash: str) -> tuple[str, str]:
        self.calls.append(spec_hash)
        return self.sources[spec_hash]


def test_by_hash_of_a_current_spec_does_not_read_stored_sources(library: SpecLibrary) -> None:
    current = library.current("activity_report")
    stored = _StoredSources({})
    assert library.by_hash(current.hash, stored) is current
    assert stored.calls == []


def test_by_hash_of_an_older_spec_parses_its_stored_source_once() -> None:
    library = SpecLibrary(WORKFLOWS)
    older = _older_activity_report()
    older_hash = content_hash(older)
    assert older_hash != library.current("activity_report").hash
    stored = _StoredSources({older_hash: (older, "activity_report.bpmn")})

    first = library.by_hash(older_hash, stored)
    second = library.by_hash(older_hash, stored)

    assert stored.calls == [older_hash]
    assert second is first
    assert first.hash == older_hash
    assert first.source == older
    assert first.user_tasks["review_report"].title == "Granska"
    # The current version is untouched: new instances still start on it.
    assert library.current("activity_report").user_tasks["review_report"].title == "Granska rapport"


def test_by_hash_refuses_a_stored_source_that_does_not_match_its_hash() -> None:
    library = SpecLibrary(WORKFLOWS)
    claimed = content_hash(_older_activity_report())
    tampered = _replace_once(_older_activity_report(), 'name="Granska"', 'name="Granskad"')
    stored = _StoredSources({claimed: (tampered, "activity_report.bpmn")})
    with pytest.raises(SpecError, match="does not match its hash"):
        library.by_hash(claimed, stored)
    # Nothing was cached: asking again reads the store again, and is refused again.
    with pytest.raises(SpecError, match="does not match its hash"):
        library.by_hash(claimed, stored)
    assert stored.calls == [claimed, claimed]


def test_by_hash_refuses_a_stored_source_that_is_malicious(os_system_calls: list[str]) -> None:
    library = SpecLibrary(WORKFLOWS)
    evil = _replace_once(_source("activity_report.bpmn"), RETURN_CONDITION, MALICIOUS[0])
    stored: Callable[[str], tuple[str, str]] = _StoredSources({content_hash(evil): (evil, "old.bpmn")})
    with pytest.raises(SpecError, match=r"^old\.bpmn: review_outcome: "):
        library.by_hash(content_hash(evil), stored)
    assert os_system_calls == []
