"""Tests for pruning an instance's history: a loop run a thousand times leaves a task tree (and a
stored state) the size of a fresh one, the process page's counts stay exact, stored counts are
checked, and a step that would leave an instance stuck is refused instead of saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from planflow import clock, resources
from planflow.engine import HumanTask, ProcessRun, SpecLibrary, StateError, StuckError, runner

START = datetime(2026, 11, 1, 9, tzinfo=UTC)
RED = {"level": "red", "escalation_after": "P14D", "cause": "x"}


@pytest.fixture(scope="module")
def library() -> SpecLibrary:
    return SpecLibrary(resources.folder("workflows"))


def _only(run: ProcessRun, name: str) -> HumanTask:
    tasks = run.human_tasks()
    assert [task.name for task in tasks] == [name]
    return tasks[0]


def _task_count(state: str) -> int:
    stored = json.loads(state)
    return len(stored["tasks"]) + sum(len(sub["tasks"]) for sub in stored["subprocesses"].values())


def _return_report(run: ProcessRun, round: int) -> None:
    run.complete(_only(run, "report_status").id, {"status": "yellow", "cause": f"late {round}"})
    run.complete(_only(run, "review_report").id, {"outcome": "return", "comment": f"fix {round}"})


def _return_recommendation(run: ProcessRun, round: int) -> None:
    run.complete(_only(run, "draft_recommendation").id, {"recommendation": f"r {round}"})
    run.complete(_only(run, "agree_recommendation").id, {"outcome": "return", "comment": f"c {round}"})


def _returned(
    library: SpecLibrary,
    process: str,
    data: dict[str, Any],
    give_back: Callable[[ProcessRun, int], None],
    times: int,
) -> tuple[str, str]:
    """The stored state of a fresh instance and of one whose first task was given back `times`
    times, passing through a dump and a load every 50 rounds as between requests."""
    definition = library.current(process)
    with clock.frozen_at(START):
        run, _ = ProcessRun.start(definition, data)
        fresh = run.dump()
        for round in range(1, times + 1):
            give_back(run, round)
            if round % 50 == 0:
                run = ProcessRun.load(definition, run.dump())
        return fresh, run.dump()


def test_a_report_returned_a_thousand_times_stays_as_small_as_a_fresh_one_and_is_accepted_at_last(
    library: SpecLibrary,
) -> None:
    fresh, returned = _returned(library, "activity_report", {}, _return_report, 1000)

    assert _task_count(returned) <= _task_count(fresh) + 1
    assert len(returned) <= 1.2 * len(fresh)
    run = ProcessRun.load(library.current("activity_report"), returned)
    assert run.task_data(_only(run, "report_status").id)["comment"] == "fix 1000"
    run.complete(_only(run, "report_status").id, {"status": "green"}, replaces=["cause"])
    assert run.complete(_only(run, "review_report").id, {"outcome": "accept"}, replaces=["comment"]) == [
        "review_outcome",
        "report_accepted",
    ]
    assert run.completed
    assert run.data == {"status": "green", "outcome": "accept"}
    done, current = run.progress()
    assert (done["report_status"], done["review_report"], done["report_returned"]) == (1001, 1001, 1000)
    assert (done["report_start"], done["report_accepted"], current) == (1, 1, set())


def test_a_recommendation_returned_a_thousand_times_stays_small_and_the_deviation_runs_to_its_end(
    library: SpecLibrary,
) -> None:
    fresh, returned = _returned(library, "deviation", RED, _return_recommendation, 1000)

    assert _task_count(returned) <= _task_count(fresh) + 1
    assert len(returned) <= 1.2 * len(fresh)
    run = ProcessRun.load(library.current("deviation"), returned)
    # The escalation timer, armed at the start, is still due when it was.
    (timer,) = run.timers()
    assert timer.due_at == START + timedelta(days=14)
    with clock.frozen_at(START + timedelta(days=14)):
        assert "deviation_escalated" in run.fire_due_timers()
        run.complete(_only(run, "draft_recommendation").id, {"recommendation": "final"})
        run.complete(_only(run, "agree_recommendation").id, {"outcome": "agree"}, replaces=["comment"])
        passed = run.complete(_only(run, "steering_decision").id, {"decision": "approve", "rationale": "ok"})
    assert passed[-2:] == ["owner_informed", "deviation_closed"]
    assert run.completed
    assert run.data["recommendation"] == "final"
    done, _ = run.progress()
    assert (done["draft_recommendation"], done["recommendation_returned"], done["steering_decision"]) == (
        1001,
        1000,
        1,
    )


def test_done_counts_stay_exact_when_history_is_pruned_and_stored(library: SpecLibrary) -> None:
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    _return_report(run, 1)
    _return_report(run, 2)
    run.complete(_only(run, "report_status").id, {"status": "green"})

    done, current = run.progress()
    assert done == {
        "report_start": 1,
        "report_status": 3,
        "review_report": 2,
        "review_outcome": 2,
        "report_returned": 2,
    }
    assert current == {"review_report"}
    assert ProcessRun.load(definition, run.dump()).progress() == (done, current)
    # The counts came through pruning: the stored tree holds fewer tasks than they add up to.
    assert _task_count(run.dump()) < sum(done.values())


def test_pruning_keeps_every_task_that_is_not_finished_and_the_parent_it_inherits_from(
    library: SpecLibrary,
) -> None:
    with clock.frozen_at(START):
        run, _ = ProcessRun.start(library.current("deviation"), RED)
        for round in range(1, 4):
            _return_recommendation(run, round)
    tasks = [
        task
        for process in (run.workflow, *run.workflow.subprocesses.values())
        for task in process.tasks.values()
    ]
    unfinished = [task for task in tasks if not task.has_state(runner.TaskState.FINISHED_MASK)]
    assert {task.task_spec.bpmn_id for task in unfinished} >= {"draft_recommendation", "escalation_timer"}
    for task in unfinished:
        assert task.parent is not None
        assert task.parent.id in task.workflow.tasks
    draft = run.workflow.get_task_from_id(runner.UUID(_only(run, "draft_recommendation").id))
    assert draft.parent.task_spec.bpmn_id == "recommendation_returned"
    assert draft.data == {**RED, "recommendation": "r 3", "outcome": "return", "comment": "c 3"}


# -- stored counts ----------------------------------------------------------------------------


def _stored_counts(state: dict[str, Any]) -> dict[str, Any]:
    (sub,) = state["subprocesses"].values()
    counts: dict[str, Any] = sub["tasks"][sub["root"]]["internal_data"][runner.PRUNED_KEY]
    return counts


@pytest.mark.parametrize(
    "tamper",
    [
        lambda counts: counts.update(draft_recommendation=-1),
        lambda counts: counts.update(draft_recommendation=0),
        lambda counts: counts.update(draft_recommendation=True),
        lambda counts: counts.update(draft_recommendation="12"),
        lambda counts: counts.update(draft_recommendation=1.5),
        lambda counts: counts.update(no_such_element=1),
    ],
    ids=["negative", "zero", "bool", "text", "fraction", "unknown element"],
)
def test_stored_counts_of_pruned_tasks_that_are_not_counts_of_this_process_are_refused(
    library: SpecLibrary, tamper: Callable[[dict[str, Any]], None]
) -> None:
    definition = library.current("deviation")
    with clock.frozen_at(START):
        run, _ = ProcessRun.start(definition, RED)
        _return_recommendation(run, 1)
        _return_recommendation(run, 2)
    state = json.loads(run.dump())
    assert _stored_counts(state)["draft_recommendation"] == 2  # control: the counts are there
    tamper(_stored_counts(state))
    with pytest.raises(StateError, match="counts of pruned tasks are malformed"):
        ProcessRun.load(definition, json.dumps(state))


def test_stored_counts_that_are_not_a_mapping_are_refused(library: SpecLibrary) -> None:
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    state = json.loads(run.dump())
    state["tasks"][state["root"]]["internal_data"][runner.PRUNED_KEY] = ["report_status"]
    with pytest.raises(StateError, match="counts of pruned tasks are malformed"):
        ProcessRun.load(definition, json.dumps(state))


# -- a stuck instance is never saved ----------------------------------------------------------


def test_without_pruning_the_250th_return_is_refused_and_a_state_stored_stuck_loads_with_its_task_back(
    library: SpecLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's silent stop: SpiffWorkflow walks 1,000 levels and each return adds four, so
    the 250th return left the rest of the return where no engine step reaches it. Now
    that step is refused; and a state saved that way before, loaded, is pruned, and one advance
    takes it through the return to the next report."""
    definition = library.current("activity_report")
    monkeypatch.setattr(ProcessRun, "prunes_history", False)
    run, _ = ProcessRun.start(definition, {})
    for round in range(1, 250):
        _return_report(run, round)
    run.complete(_only(run, "report_status").id, {"status": "yellow", "cause": "late"})
    review = _only(run, "review_report")

    with pytest.raises(StuckError, match="too deep in history to reach"):
        run.complete(review.id, {"outcome": "return", "comment": "again"})
    assert run.human_tasks() == []  # what the instance would have been saved as
    stuck = run.dump()

    monkeypatch.setattr(ProcessRun, "prunes_history", True)
    loaded = ProcessRun.load(definition, stuck)
    # Its projections were written when no task was reachable: the next save adds the report.
    assert loaded.loaded_tasks == frozenset()
    assert loaded.fire_due_timers()[-1:] == ["report_returned"]
    report = _only(loaded, "report_status")
    loaded.complete(report.id, {"status": "green"}, replaces=["cause", "comment"])
    loaded.complete(_only(loaded, "review_report").id, {"outcome": "accept"})
    assert loaded.completed
    assert loaded.progress()[0]["report_returned"] == 250


def test_a_step_that_leaves_nothing_to_do_is_refused(library: SpecLibrary) -> None:
    """A stored state whose next task was marked done by tampering: completing the report would
    leave the process running with no task open and no event awaited."""
    definition = library.current("activity_report")
    run, _ = ProcessRun.start(definition, {})
    state = json.loads(run.dump())
    report = _only(run, "report_status")
    (review_id,) = state["tasks"][report.id]["children"]
    state["tasks"][review_id]["state"] = runner.TaskState.COMPLETED
    tampered = ProcessRun.load(definition, json.dumps(state))

    with pytest.raises(StuckError, match="nothing open or awaited"):
        tampered.complete(report.id, {"status": "green"})


def test_a_step_that_finishes_the_process_is_not_stuck(library: SpecLibrary) -> None:
    """Control for the test above: a finished instance has nothing open, rightly."""
    run, _ = ProcessRun.start(library.current("activity_report"), {})
    run.complete(_only(run, "report_status").id, {"status": "green"})
    run.complete(_only(run, "review_report").id, {"outcome": "accept"})
    assert run.completed
    assert run.human_tasks() == []
