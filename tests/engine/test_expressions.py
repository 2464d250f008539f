"""Tests for the expression language that stands in for `eval` on BPMN conditions and timers:
what the diagrams hold evaluates, everything else is refused, and the bounds hold."""

from __future__ import annotations

import ast
import builtins
import copy
import os
import pickle
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from planflow import resources
from planflow.engine.expressions import (
    MAX_LENGTH,
    MAX_NESTING,
    Expression,
    ExpressionError,
    compile_expression,
    evaluate,
)

WORKFLOWS = resources.folder("workflows")

# Every element of a BPMN file whose text SpiffWorkflow hands to the script engine.
EXPRESSION_ELEMENTS = {
    "conditionExpression",
    "completionCondition",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "formalExpression",
    "messagePath",
}


class _Spy:
    """Stands in for any value and logs every way an expression touches it."""

    def __init__(self, log: list[str]) -> None:
        object.__setattr__(self, "_log", log)

    def __getattr__(self, name: str) -> _Spy:
        self._log.append(f"getattr {name}")
        return self

    def __call__(self, *args: object, **kwargs: object) -> _Spy:
        self._log.append("call")
        return self

    def __getitem__(self, key: object) -> _Spy:
        self._log.append(f"getitem {key!r}")
        return self


class _RecordingContext(Mapping[str, Any]):
    """A context that answers every name with a spy and logs each lookup."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def __getitem__(self, name: str) -> _Spy:
        self.log.append(f"lookup {name}")
        return _Spy(self.log)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.fixture
def os_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record, instead of run, anything that reaches os.system or os.popen."""
    calls: list[object] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(("system", args)) or 0)
    monkeypatch.setattr(os, "popen", lambda *args: calls.append(("popen", args)))
    return calls


# -- what the diagrams hold -------------------------------------------------------------------


def _diagram_expressions() -> list[tuple[str, str, str]]:
    """(file, element, text) of every expression in workflows/*.bpmn."""
    found = []
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        for element in ET.parse(path).iter():
            tag = element.tag.rpartition("}")[2]
            if tag in EXPRESSION_ELEMENTS and (element.text or "").strip():
                found.append((path.name, tag, (element.text or "").strip()))
    return found


DIAGRAM_EXPRESSIONS = _diagram_expressions()
CONDITION = re.compile(r'(\w+) == "(\w+)"')


def test_the_diagrams_hold_conditions_and_one_timer() -> None:
    """Control for the tests below: they walk every expression the diagrams hold."""
    kinds = [tag for _, tag, _ in DIAGRAM_EXPRESSIONS]
    assert kinds.count("conditionExpression") >= 10
    assert [text for _, tag, text in DIAGRAM_EXPRESSIONS if tag == "timeDuration"] == ["escalation_after"]


@pytest.mark.parametrize(
    ("filename", "tag", "text"),
    [expression for expression in DIAGRAM_EXPRESSIONS if expression[1] == "conditionExpression"],
)
def test_every_condition_in_the_diagrams_is_name_equals_literal_and_evaluates(
    filename: str, tag: str, text: str
) -> None:
    # A new form of condition in a diagram should be a decision, taken here first.
    match = CONDITION.fullmatch(text)
    assert match, f'{filename}: {text!r} is not of the form name == "literal"'
    name, literal = match.groups()

    assert compile_expression(text).names == {name}
    assert evaluate(text, {name: literal}) is True
    assert evaluate(text, {name: literal + "x"}) is False
    assert evaluate(text, {name: None}) is False
    with pytest.raises(ExpressionError, match=f"unknown name '{name}'"):
        evaluate(text, {})


@pytest.mark.parametrize(
    ("filename", "tag", "text"),
    [expression for expression in DIAGRAM_EXPRESSIONS if expression[1] != "conditionExpression"],
)
def test_every_other_expression_in_the_diagrams_is_a_name_that_evaluates_to_its_value(
    filename: str, tag: str, text: str
) -> None:
    assert compile_expression(text).names == {text}
    assert evaluate(text, {text: "P14D"}) == "P14D"


# -- the grammar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ('outcome == "return"', {"outcome": "return"}, True),
        ('outcome == "return"', {"outcome": "approve"}, False),
        ("outcome == 'return'", {"outcome": "return"}, True),
        ('outcome != "return"', {"outcome": "approve"}, True),
        ('outcome != "return"', {"outcome": "return"}, False),
        ('status in ("yellow", "red")', {"status": "yellow"}, True),
        ('status in ("yellow", "red")', {"status": "green"}, False),
        ('status not in ["yellow", "red"]', {"status": "green"}, True),
        ('status in ("red",)', {"status": "red"}, True),
        ("status in ()", {"status": "red"}, False),
        ("count == 3", {"count": 3}, True),
        ('count == "3"', {"count": 3}, False),
        ("done == True", {"done": True}, True),
        ("reviewer == None", {"reviewer": None}, True),
        ("reviewer != None", {"reviewer": "anna"}, True),
        ("first == second", {"first": "a", "second": "a"}, True),
        ("approved", {"approved": True}, True),
        ("not approved", {"approved": False}, True),
        ('not approved and level == "red"', {"approved": False, "level": "red"}, True),
        ('not approved and level == "red"', {"approved": True, "level": "red"}, False),
        ("a == 1 or b == 1 and c == 1", {"a": 0, "b": 1, "c": 0}, False),  # and binds tighter
        ("(a == 1 or b == 1) and c == 1", {"a": 1, "b": 0, "c": 1}, True),
        ("not (a == 1 or b == 1)", {"a": 0, "b": 0}, True),
        ("True", {}, True),
        ('"P14D"', {}, "P14D"),
        ("escalation_after", {"escalation_after": "P14D"}, "P14D"),
        ("7", {}, 7),
    ],
)
def test_the_grammar_evaluates_like_python(source: str, context: dict[str, Any], expected: Any) -> None:
    assert evaluate(source, context) == expected
    assert type(evaluate(source, context)) is type(expected)


def test_and_or_not_give_true_or_false() -> None:
    assert evaluate('"" or "default"', {}) is True
    assert evaluate("1 and 2", {}) is True
    assert evaluate("x and y", {"x": "a", "y": ""}) is False
    assert evaluate("not x", {"x": []}) is True


def test_and_or_stop_at_the_deciding_operand() -> None:
    context = _RecordingContext()

    assert evaluate("0 and missing", context) is False
    assert evaluate('"kept" or missing', context) is True
    assert context.log == []


def test_comparing_values_of_any_kind_the_data_may_hold_never_fails() -> None:
    context = {"answers": ["a", {"b": [1]}], "count": 3, "none": None}

    assert evaluate('answers == "a"', context) is False
    assert evaluate('answers in ("a", 1, None)', context) is False
    assert evaluate('count != "3"', context) is True
    assert evaluate("none in (0, False, '')", context) is False


def test_condition_text_may_carry_the_bpmn_files_whitespace() -> None:
    # Condition bodies in BPMN XML are usually indented on their own line.
    assert evaluate('\n        outcome == "return"\n      ', {"outcome": "return"}) is True


def test_unknown_name_message_names_the_variable() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("outcome == 'return' and reviewd", {"outcome": "return"})

    assert str(caught.value) == "unknown name 'reviewd'"


def test_lookup_does_not_add_keys_to_a_defaultdict_context() -> None:
    context: defaultdict[str, int] = defaultdict(int)

    with pytest.raises(ExpressionError, match="unknown name 'missing'"):
        evaluate("missing", context)
    assert dict(context) == {}


# -- refusals ---------------------------------------------------------------------------------

ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__]",
    "(lambda: 1)()",
    "open('/etc/passwd')",
    "eval('1')",
    "getattr(x, 'y')",
    "x.y",
    "x()",
    "x[0]",
    "x[1:2]",
    'f"{x}"',
    "(y := 1)",
    "_x",
    "__builtins__",
    "x == __builtins__",
    "x in (__builtins__,)",
    "{**x}",
    "[*x]",
    "{c: 1 for c in x}",
    "(c for c in x)",
    "x if y else z",
    # What once needed guards against huge results or slow work: all refused before running.
    '"a" * 100000000',
    "[[0] * 10000] * 10000",
    "2 ** 100000",
    '"%0100000000d" % 1',
    "round(1, -100000000)",
    "str([x])",
    "len(x) > 0",
    "b'bytes'",
    "1j",
    "1.5",
    "...",
    "-x",
    "~x",
    "x < 1",
    "x is None",
    "a == b == c",
    "x in y",
    "(x, y)",
    "{x}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_anything_outside_the_grammar_is_refused_when_checked_and_runs_nothing(
    source: str, os_calls: list[object]
) -> None:
    context = _RecordingContext()

    with pytest.raises(ExpressionError, match="not allowed in expressions: "):
        compile_expression(source)
    with pytest.raises(ExpressionError):
        evaluate(source, context)

    assert os_calls == []
    assert context.log == []  # not even a name lookup happened


def test_recording_context_does_see_what_an_allowed_expression_touches() -> None:
    # Control for the test above: an empty log there means nothing ran, not a blind spy.
    context = _RecordingContext()

    evaluate("x == 1", context)

    assert context.log == ["lookup x"]


def test_context_values_cannot_be_called_even_if_named_like_a_function(os_calls: list[object]) -> None:
    with pytest.raises(ExpressionError, match="calling a function is not allowed"):
        evaluate("system('id')", {"system": os.system})
    assert os_calls == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x.__class__", "attribute access is not allowed in expressions: 'x.__class__'"),
        ("open('/etc/passwd')", "calling a function is not allowed in expressions: \"open('/etc/passwd')\""),
        ("x[0]", "a subscript is not allowed in expressions: 'x[0]'"),
        ("(lambda: 1)", "lambda is not allowed in expressions: 'lambda: 1'"),
        ("[c for c in x]", "a comprehension is not allowed in expressions: '[c for c in x]'"),
        ("(c for c in x)", "a comprehension is not allowed in expressions: '(c for c in x)'"),
        ("x + 1", "arithmetic is not allowed in expressions: 'x + 1'"),
        ("x if y else z", "a conditional expression is not allowed in expressions: 'x if y else z'"),
        ("(y := 1)", "assignment (:=) is not allowed in expressions: 'y := 1'"),
        ('f"{x}"', "an f-string is not allowed in expressions: 'f\"{x}\"'"),
        ("__x == 1", "a name starting with an underscore is not allowed in expressions: '__x'"),
        ("-1", "an operator other than 'not' is not allowed in expressions: '-1'"),
        ("x >= 1", "a comparison other than ==, !=, in and not in is not allowed in expressions: 'x >= 1'"),
        ("a == b == c", "a chained comparison is not allowed in expressions: 'a == b == c'"),
        ("x in y", "'in' on anything but a list of literals is not allowed in expressions: 'x in y'"),
        ('x in ("a", y)', "anything but a literal in an 'in' list is not allowed in expressions: 'y'"),
        ("1.5", "a float literal is not allowed in expressions: '1.5'"),
        ("b'raw'", "a bytes literal is not allowed in expressions: \"b'raw'\""),
        ("...", "... is not allowed in expressions: '...'"),
        ("{1: 2}", "Dict syntax is not allowed in expressions: '{1: 2}'"),
    ],
)
def test_refusal_message_names_the_construct_and_quotes_it(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)

    assert str(caught.value) == message


def test_refusal_message_stays_on_one_line_and_short() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("(x.y +\n" + "1 + " * 100 + "1)")

    message = str(caught.value)
    assert message.startswith("arithmetic is not allowed in expressions: 'x.y + 1 + 1")
    assert "\n" not in message
    assert len(message) < 200


def test_evaluator_never_compiles_to_code_or_calls_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    compile_flags: list[int] = []
    real_compile = builtins.compile

    def only_ast_compile(source: Any, filename: Any, mode: str, flags: int = 0, **kw: Any) -> Any:
        compile_flags.append(flags)
        return real_compile(source, filename, mode, flags, **kw)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "compile", only_ast_compile)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    # A source no other test uses, so the cache cannot skip the parse.
    source = 'status in ("never", "cached") and not (answer != 42)'

    assert evaluate(source, {"answer": 42, "status": "cached"}) is True
    assert compile_flags  # ast.parse did go through compile ...
    assert all(flags & ast.PyCF_ONLY_AST for flags in compile_flags)  # ... for a tree only


@pytest.mark.parametrize("source", ["a ==", "(a ==\n b ==)", "a b", "outcome = 'x'", "a\0", "a; b"])
def test_syntax_error_gives_a_one_line_message(source: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)

    message = str(caught.value)
    assert message.startswith("syntax error in expression")
    assert "\n" not in message


def test_empty_expression_is_refused() -> None:
    with pytest.raises(ExpressionError, match="expression is empty"):
        compile_expression("   \n ")


def test_non_string_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be a string"):
        compile_expression(42)  # type: ignore[arg-type]


# -- bounds -----------------------------------------------------------------------------------


def test_an_expression_up_to_max_length_is_read_and_a_longer_one_refused() -> None:
    longest = "x == " + '"' + "a" * (MAX_LENGTH - 7) + '"'
    assert len(longest) == MAX_LENGTH
    assert evaluate(f"  {longest}\n", {"x": "a" * (MAX_LENGTH - 7)}) is True  # whitespace aside

    with pytest.raises(ExpressionError, match=f"longer than MAX_LENGTH \\({MAX_LENGTH} characters\\)"):
        compile_expression(longest.replace('"a', '"aa'))


def test_nesting_up_to_max_nesting_is_read_and_deeper_refused() -> None:
    assert evaluate("not " * MAX_NESTING + "x", {"x": True}) is True
    assert evaluate("(x or " * MAX_NESTING + "x" + ")" * MAX_NESTING, {"x": False}) is False

    with pytest.raises(ExpressionError, match=f"nested more than {MAX_NESTING} levels deep"):
        compile_expression("not " * (MAX_NESTING + 1) + "x")


@pytest.mark.parametrize(
    "source",
    ["-" * (MAX_LENGTH - 1) + "1", "not " * 249 + "x", "(" * 300 + "1" + ")" * 300, "[" * 150 + "]" * 150],
)
def test_deep_nesting_within_the_length_is_refused_cleanly(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


# -- the Expression object --------------------------------------------------------------------


def test_compile_expression_returns_the_same_object_for_the_same_source() -> None:
    first = compile_expression('level == "red"')

    assert compile_expression('level == "red"') is first
    assert compile_expression('level == "yellow"') is not first
    assert first.source == 'level == "red"'


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ('outcome == "return"', {"outcome"}),
        ('a and not (b == c or d in ("e",))', {"a", "b", "c", "d"}),
        ('"P14D"', set()),
        ("x == 1 or x == 2", {"x"}),
    ],
)
def test_names_lists_the_free_variables(source: str, names: set[str]) -> None:
    assert compile_expression(source).names == frozenset(names)


def test_expression_is_immutable_and_copies_evaluate_alike() -> None:
    expression = compile_expression("count == 2")

    with pytest.raises(AttributeError):
        expression.source = "__import__('os')"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del expression.names  # type: ignore[misc]
    for copied in (copy.deepcopy(expression), pickle.loads(pickle.dumps(expression))):
        assert copied == expression
        assert copied.evaluate({"count": 2}) is True
    assert isinstance(expression, Expression)
