"""Every user task of every process has a domain handler, so no completion goes unrecorded."""

from __future__ import annotations

from planflow.services.chain import instances, steps


def test_every_user_task_has_a_completion_handler() -> None:
    user_tasks = {name for process in instances.library().processes for name in process.user_tasks}
    assert len(user_tasks) == 15
    assert user_tasks == set(steps.ON_COMPLETE)


def test_every_passed_handler_names_an_element_of_a_process() -> None:
    sources = "".join(process.source for process in instances.library().processes)
    for name in steps.ON_PASSED:
        assert f'id="{name}"' in sources, name
