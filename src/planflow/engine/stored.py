"""The shape of a stored state, checked before SpiffWorkflow reads any of it: how deep it nests,
how many tasks it holds, and that each workflow's tasks form one tree. SpiffWorkflow walks these
structures recursively and trusts them; a tampered or broken row must be refused here, in one
line, rather than hang or crash a walk."""

from __future__ import annotations

from typing import Any
from uuid import UUID


class StateError(ValueError):
    """The stored state, or the asked-for step, is not one this instance can take."""


MAX_TASKS = 10_000
"""Most tasks a stored instance may hold, sub-processes included. A yearly cycle of planflow's
processes has tens of tasks, and pruning keeps a loop from adding more however often it runs;
10,000 is far beyond that, and small enough that checking and loading stay a matter of
milliseconds."""


MAX_STATE_DEPTH = 100
"""Deepest nesting of lists and objects a stored state may have. The state itself is about six
levels deep and form answers add two or three; SpiffWorkflow restores and copies task data
recursively, so the bound keeps every such walk far below Python's recursion limit."""


def clip(text: str, limit: int = 80) -> str:
    """A short prefix of a message part that may quote a bad stored value."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_nesting(dct: dict[str, Any]) -> None:
    """Refuse a state nested deeper than MAX_STATE_DEPTH (walked iteratively, so it cannot recurse)."""
    pending: list[tuple[object, int]] = [(dct, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_STATE_DEPTH:
            raise unreadable(f"it is nested more than {MAX_STATE_DEPTH} levels deep")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def unreadable(reason: str) -> StateError:
    return StateError(f"stored state cannot be read: {reason}")


def _task_id(value: object, what: str) -> UUID:
    if not isinstance(value, str):
        raise unreadable(f"a {what} is not a task id")
    try:
        return UUID(value)
    except ValueError:
        raise unreadable(f"a {what} is not a task id") from None


def check_task_graphs(dct: dict[str, Any]) -> None:
    """Refuse stored task trees that are not trees, before SpiffWorkflow walks them: a task
    listing itself (or an ancestor) as a child would make that walk go round forever."""
    subprocesses = dct.get("subprocesses", {})
    if not isinstance(subprocesses, dict) or not all(isinstance(sub, dict) for sub in subprocesses.values()):
        raise unreadable("its sub-processes are malformed")
    graphs = [dct, *subprocesses.values()]
    # Counted before any walk, so a huge state is refused at the cost of a len().
    if sum(len(tasks) for graph in graphs if isinstance(tasks := graph.get("tasks"), dict)) > MAX_TASKS:
        raise unreadable(f"it has more than MAX_TASKS ({MAX_TASKS}) tasks")
    seen: set[UUID] = set()
    for graph in graphs:
        seen |= _check_task_tree(graph, seen)
    # A sub-process runs under one task of its parent; keys must name tasks met above.
    parents = [_task_id(key, "sub-process key") for key in subprocesses]
    if len(set(parents)) != len(parents) or not seen.issuperset(parents):
        raise unreadable("a sub-process runs under no stored task")


def _check_task_tree(graph: dict[str, Any], seen: set[UUID]) -> set[UUID]:
    """The ids of a workflow's tasks, once checked to form one tree: each task reached exactly
    once from the root, its parent the task that lists it, and no id met in another workflow."""
    by_id = _tasks_by_id(graph.get("tasks"), seen)
    root = _task_id(graph.get("root"), "root")
    if root not in by_id or by_id[root].get("parent") is not None:
        raise unreadable("its root is not a stored task without a parent")
    reached = _reached(by_id, root)
    if len(reached) != len(by_id):
        raise unreadable(f"{len(by_id) - len(reached)} tasks are not reachable from the root")
    return reached


def _tasks_by_id(tasks: object, seen: set[UUID]) -> dict[UUID, dict[str, Any]]:
    """A workflow's stored tasks by id, each stored once under its own id and in no other workflow."""
    if not isinstance(tasks, dict) or not tasks:
        raise unreadable("it has no tasks")
    by_id: dict[UUID, dict[str, Any]] = {}
    for key, task in tasks.items():
        task_id = _task_id(key, "task key")
        if not isinstance(task, dict) or _task_id(task.get("id"), "task id") != task_id:
            raise unreadable(f"task {str(key)[:36]!r} is malformed")
        if task_id in by_id or task_id in seen:
            raise unreadable(f"task {task_id} is stored twice")
        by_id[task_id] = task
    return by_id


def _reached(by_id: dict[UUID, dict[str, Any]], root: UUID) -> set[UUID]:
    """The tasks reached from `root` through the children each lists (walked without recursion),
    once each child is shown to name its lister as its parent and to be met only once."""
    reached, pending = {root}, [root]
    while pending:
        parent = pending.pop()
        children = by_id[parent].get("children")
        if not isinstance(children, list):
            raise unreadable(f"task {parent} has malformed children")
        for child in (_task_id(child, "child") for child in children):
            if child in reached:
                raise unreadable(f"task {child} is reached twice: the task tree has a cycle")
            if child not in by_id or by_id[child].get("parent") != str(parent):
                raise unreadable(f"task {parent} lists a child that does not name it as its parent")
            reached.add(child)
            pending.append(child)
    return reached
