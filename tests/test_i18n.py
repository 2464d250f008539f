"""Words are chosen when read: every key the code can say is in both catalogs, with the same
parameters, and the compiled catalogs are the ones the sources say."""

from __future__ import annotations

import ast
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from planflow import i18n
from planflow.models import Role, Status
from planflow.services.authority import access  # noqa: F401  (notices: templates below)
from planflow.services.chain import instances  # noqa: F401  (notices: templates below)
from planflow.services.outputs import notices  # noqa: F401  (notices: templates below)

SRC = Path(__file__).resolve().parents[1] / "src" / "planflow"
ERRORS = {"ServiceError", "InvalidInput", "NotFound", "Forbidden", "Conflict", "Message"}
NOTICE_TEMPLATES = {
    "notice.escalation",
    "notice.decision",
    "notice.verbatim",
    "notice.reminder",
    "notice.overdue",
    "notice.overdue_escalation",
    "notice.digest",
    "notice.batch",
    "notice.task_arrived",
    "notice.task_returned",
    "notice.cycle_opened",
}


def _catalog(language: str) -> dict[str, str]:
    path = i18n.CATALOGS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def _keys_in_code() -> set[str]:
    """The literal first argument of every error and Message made in the source."""
    keys = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name in ERRORS and isinstance(node.args[0].value, str):
                    keys.add(node.args[0].value)
    return keys


def _audit_words() -> set[str]:
    """The words of every audit action and subject kind the source records (audit.record's third
    and fourth arguments, each literal of them), and of every process."""
    keys = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record"):
                continue
            if getattr(node.func.value, "id", None) != "audit" or len(node.args) < 4:  # type: ignore[attr-defined]
                continue
            for prefix, argument in (("audit.action", node.args[2]), ("audit.subject", node.args[3])):
                for literal in ast.walk(argument):
                    if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                        keys.add(f"{prefix}.{literal.value}")
    keys.discard("audit.action.task.")  # steps.complete's f"task.{name}": worded as "task done"
    assert {"audit.action.status.reported", "audit.action.user.deactivated", "audit.subject.cycle"} <= keys
    return keys | {f"process.{p.process_id}" for p in instances.library().processes}


WORKFLOWS = SRC.parents[1] / "workflows"
WORDED_BY_OTHER_KEYS = {"lane", "participant", "process", "userTask", "signal", "message", "BPMNDiagram"}


def _diagram_names() -> dict[str, str]:
    """bpmn.<process>.<id> → the diagram's own (Swedish) name of every element the process page
    draws with words of its own (lanes go by ui.lane.*, user tasks by task.*)."""
    names = {}
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        root = ET.parse(path).getroot()
        process = next(e.get("id") for e in root.iter() if e.tag.endswith("}process"))
        for element in root.iter():
            kind = element.tag.rsplit("}", 1)[-1]
            if element.get("name") and kind not in WORDED_BY_OTHER_KEYS:
                names[f"bpmn.{process}.{element.get('id')}"] = element.get("name")
    assert len(names) > 50
    return names


def _keys_made_at_run_time() -> set[str]:
    user_tasks = {name for p in instances.library().processes for name in p.user_tasks}
    decisions = instances.library().forms.get("steering_decision").schema["properties"]["decision"]["enum"]
    return (
        {f"task.{name}" for name in user_tasks}
        | {f"access.lane.{lane}" for lane in access.LANES}
        | {f"access.use_case.{use_case}" for use_case in access.UseCase}
        | {f"role.{role}" for role in Role}
        | {f"status.{status}" for status in Status}
        | {"status.unreported"}
        | {f"decision.{decision}" for decision in decisions}
        | {f"{template}.{part}" for template in NOTICE_TEMPLATES for part in ("subject", "body")}
        | _audit_words()
        | _diagram_names().keys()
    )


def test_both_catalogs_hold_every_key_with_the_same_parameters() -> None:
    swedish, english = _catalog("sv"), _catalog("en")
    assert swedish.keys() == english.keys()
    for key in swedish:
        assert swedish[key] and english[key], key
        assert _placeholders(swedish[key]) == _placeholders(english[key]), key
    needed = _keys_in_code() | _keys_made_at_run_time()
    assert len(needed) > 100
    assert needed - swedish.keys() == set()


def test_swedish_task_titles_are_the_diagrams_names() -> None:
    swedish = _catalog("sv")
    for process in instances.library().processes:
        for name, info in process.user_tasks.items():
            assert swedish[f"task.{name}"] == info.title, name


def test_swedish_process_names_are_the_diagrams_names() -> None:
    swedish = _catalog("sv")
    for process in instances.library().processes:
        assert swedish[f"process.{process.process_id}"] == process.title, process.process_id
    for key, name in _diagram_names().items():
        assert swedish[key] == name, key


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_compiled_catalogs_are_current(language: str) -> None:
    folder = i18n.CATALOGS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id}
    compiled = {m.id: m.string for m in read_mo(io.BytesIO((folder / "messages.mo").read_bytes())) if m.id}
    assert compiled == source, "reinstall (make test does) to compile the catalogs"


def test_words_are_chosen_in_the_readers_language() -> None:
    assert i18n.text("sv", "status.red") == "Röd" and i18n.text("en", "status.red") == "Red"
    assert i18n.text(None, "status.red") == "Röd" and i18n.text("fi", "status.red") == "Röd"
    nested = i18n.Message(
        "notice.decision.body",
        {"decision": {"key": "decision.close"}, "rationale": "r", "recommendation": "x"},
    )
    assert nested.render("en").startswith("Decision: Activity closed")
    assert nested.render("sv").startswith("Beslut: Aktiviteten avslutas")
    assert i18n.text("en", "no.such.key") == "no.such.key"


def test_quoted_words_stand_as_they_are_in_mail_and_are_marked_on_a_page() -> None:
    """A notice quoting an activity's Swedish title: mail says it as it is, a page marks it lang=sv
    and escapes the rest (the plan's words never pass for a missing translation)."""
    from markupsafe import Markup, escape

    from planflow import i18n

    params = {"task": {"key": "task.report_status"}, "about": i18n.quoted("1.1.1 Företag <&> politiker")}

    def mark(words: str, language: str) -> Markup:
        return Markup('<span lang="%s">%s</span>') % (language, words)

    plain = i18n.text("en", "notice.task_arrived.subject", params)
    assert plain == "New task: Report status, 1.1.1 Företag <&> politiker"
    marked = i18n.text("en", "notice.task_arrived.subject", params, mark)
    assert isinstance(marked, Markup)
    assert marked == 'New task: Report status, <span lang="sv">1.1.1 Företag &lt;&amp;&gt; politiker</span>'
    assert escape(marked) == marked
