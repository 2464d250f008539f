"""Tests for the safe evaluator that stands in for `eval` on BPMN conditions and timers."""

from __future__ import annotations

import ast
import builtins
import copy
import os
import pickle
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from planflow.engine import expressions
from planflow.engine.expressions import (
    FUNCTIONS,
    MAX_ITEMS,
    Expression,
    ExpressionError,
    compile_expression,
    evaluate,
)


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

    def __iter__(self) -> Iterator[_Spy]:
        self._log.append("iter")
        return iter(())


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


# -- typical BPMN use -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ('outcome == "return"', {"outcome": "return"}, True),
        ('outcome == "return"', {"outcome": "approve"}, False),
        ('level == "red"', {"level": "red"}, True),
        ('status in ("yellow", "red")', {"status": "yellow"}, True),
        ('status in ("yellow", "red")', {"status": "green"}, False),
        ('status not in ["yellow", "red"]', {"status": "green"}, True),
        ("not approved and count > 2", {"approved": False, "count": 3}, True),
        ("not approved and count > 2", {"approved": True, "count": 3}, False),
        ("x if y else z", {"x": "a", "y": True, "z": "b"}, "a"),
        ("x if y else z", {"x": "a", "y": 0, "z": "b"}, "b"),
        ('data["k"] == 1', {"data": {"k": 1}}, True),
        ("len(items) >= 1", {"items": ["one"]}, True),
        ("len(items) >= 1", {"items": []}, False),
        ("0 < count <= 10", {"count": 10}, True),
        ("0 < count <= 10", {"count": 11}, False),
        ("reviewer is None", {"reviewer": None}, True),
        ("reviewer is not None", {"reviewer": "anna"}, True),
        ("items[-1]", {"items": [1, 2, 3]}, 3),
        ("name[0]", {"name": "Södertälje"}, "S"),
        ("pair[1]", {"pair": ("a", "b")}, "b"),
        ("count * 2 + 1 == 7", {"count": 3}, True),
        ("total / 4", {"total": 10}, 2.5),
        ("total // 4", {"total": 10}, 2),
        ("total % 4", {"total": 10}, 2),
        ("-total + +total - 1", {"total": 10}, -1),
        ('first + " " + last', {"first": "Ada", "last": "Lovelace"}, "Ada Lovelace"),
        ("[1, 2] + [3]", {}, [1, 2, 3]),
        ('{"a": 1, "b": k}', {"k": 2}, {"a": 1, "b": 2}),
        ("{1, 2, 2}", {}, {1, 2}),
        ("(1,)", {}, (1,)),
        ("min(a, b) + max(a, b) + abs(-a)", {"a": 1, "b": 5}, 7),
        ("round(score, 1)", {"score": 2.46}, 2.5),
        ('str(n) + "!"', {"n": 3}, "3!"),
        ('int("7") + float("0.5")', {}, 7.5),
        ("bool(items)", {"items": []}, False),
        ("any(flags) and not all(flags)", {"flags": [True, False]}, True),
        ("True and None is None", {}, True),
    ],
)
def test_typical_bpmn_conditions_evaluate_like_python(
    source: str, context: dict[str, Any], expected: Any
) -> None:
    assert evaluate(source, context) == expected


def test_timer_value_names_resolve_to_their_values() -> None:
    data = {"escalation_after": "P14D", "reminders": False, "reminder_after": "P7D"}

    assert evaluate("escalation_after", data) == "P14D"
    assert evaluate('"P14D"', {}) == "P14D"
    assert evaluate('reminder_after if reminders else "P30D"', data) == "P30D"


def test_condition_text_may_carry_the_bpmn_files_whitespace() -> None:
    # Condition bodies in BPMN XML are usually indented on their own line.
    assert evaluate('\n        outcome == "return"\n      ', {"outcome": "return"}) is True


def test_and_or_short_circuit_and_return_the_deciding_operand() -> None:
    context = _RecordingContext()

    assert evaluate('"" or "default"', {}) == "default"
    assert evaluate("0 and missing", context) == 0
    assert evaluate('"kept" or missing', context) == "kept"
    assert evaluate("1 and 2 and 3", {}) == 3
    assert context.log == []


def test_conditional_expression_evaluates_only_the_chosen_branch() -> None:
    assert evaluate("x if ok else missing", {"x": 1, "ok": True}) == 1


def test_chained_comparison_evaluates_the_middle_operand_once() -> None:
    class CountingContext(dict[str, Any]):
        def __init__(self, **values: Any) -> None:
            super().__init__(**values)
            self.lookups: list[str] = []

        def get(self, key: str, default: Any = None) -> Any:
            self.lookups.append(key)
            return super().get(key, default)

    context = CountingContext(x=2)

    assert evaluate("1 < x < 3", context) is True
    assert context.lookups == ["x"]


def test_builtins_are_not_visible_as_names() -> None:
    # Whitelisted functions can be called, but are not values an expression can pass around.
    with pytest.raises(ExpressionError, match="unknown name 'len'"):
        evaluate("len", {})


def test_lookup_does_not_add_keys_to_a_defaultdict_context() -> None:
    context: defaultdict[str, int] = defaultdict(int)

    with pytest.raises(ExpressionError, match="unknown name 'missing'"):
        evaluate("missing", context)
    assert dict(context) == {}


# -- escapes ----------------------------------------------------------------------------------

ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__]",
    "(lambda: 1)()",
    "open('/etc/passwd')",
    "eval('1')",
    "getattr(x, 'y')",
    "x.y",
    'f"{x}"',
    "x[1:2]",
    "(y := 1)",
    "2 ** 100000",
    "_x",
    "x()",
    "x[0]()",
    "len(*x)",
    "min(x, key=y)",
    "{**x}",
    "[*x]",
    "{c: 1 for c in x}",
    "(c for c in x)",
    "~x",
    "x << 2",
    "x | y",
    "x @ y",
    "b'bytes'",
    "1j",
    "...",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_is_refused_at_compile_time_and_runs_nothing(source: str, os_calls: list[object]) -> None:
    context = _RecordingContext()

    with pytest.raises(ExpressionError):
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


def test_context_values_cannot_be_called_even_if_named_like_a_function(
    os_calls: list[object],
) -> None:
    context = _RecordingContext()

    with pytest.raises(ExpressionError, match="calling 'system' is not allowed"):
        evaluate("system('id')", {"system": os.system})
    with pytest.raises(ExpressionError):
        evaluate("open('/etc/passwd')", context)

    assert os_calls == []
    assert context.log == []


def test_attribute_access_message_names_the_construct_and_quotes_the_source() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("x.__class__")

    assert str(caught.value) == ("attribute access is not allowed in expressions: 'x.__class__'")


@pytest.mark.parametrize(
    ("source", "construct"),
    [
        ("x.y", "attribute access"),
        ("().__class__.__base__.__subclasses__()", "attribute access"),
        ("(lambda: 1)()", "lambda"),
        ("[c for c in x]", "a list comprehension"),
        ("(c for c in x)", "a generator expression"),
        ("open('/etc/passwd')", "calling 'open'"),
        ("__import__('os')", "calling '__import__'"),
        ('f"{x}"', "an f-string"),
        ("x[1:2]", "slicing"),
        ("(y := 1)", "assignment (:=)"),
        ("2 ** 100000", "the '**' operator"),
        ("x ^ y", "the '^' operator"),
        ("_x + 1", "names starting with an underscore"),
        ("min(x, key=y)", "keyword arguments"),
        ("[*x]", "unpacking with *"),
        ("{**x}", "unpacking with **"),
        ("x[0]()", "only the whitelisted functions may be called"),
        ("b'raw'", "a bytes literal"),
        ("1" * 101, f"integer literals with more than {expressions.MAX_INT_DIGITS} digits"),
    ],
)
def test_refusal_message_names_the_construct(source: str, construct: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)

    message = str(caught.value)
    assert message.startswith(construct)
    assert "\n" not in message


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
    source = 'len(items) > 0 and status in ("never", "cached") and 41 + 1 == 42'

    assert evaluate(source, {"items": [1], "status": "cached"}) is True
    assert compile_flags  # ast.parse did go through compile ...
    assert all(flags & ast.PyCF_ONLY_AST for flags in compile_flags)  # ... for a tree only


@pytest.mark.parametrize(
    "source",
    [
        '"a" * 100000000',
        "[0] * 100000000",
        "100000000 * (0,)",
        "[[0] * 10000] * 10000",
        '"a" * 6000 + "b" * 6000',
        "[0] * 6000 + [1] * 6000",
        '"%0100000000d" % 1',
        "round(1, -100000000)",
    ],
)
def test_resource_guard_refuses_quickly_without_allocating(source: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ExpressionError):
            evaluate(source, {})
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert elapsed < 1.0
    assert peak < 1_000_000  # the refused result would have been 100 MB or more


def test_sequences_up_to_the_limit_are_built() -> None:
    assert len(evaluate('"a" * size', {"size": MAX_ITEMS})) == MAX_ITEMS
    assert len(evaluate("[0] * size", {"size": MAX_ITEMS})) == MAX_ITEMS
    with pytest.raises(ExpressionError, match="more than 10000 items"):
        evaluate('"a" * size', {"size": MAX_ITEMS + 1})


def _nested_str(levels: int, base: str = "'\\\\' * 2500") -> str:
    """`str([str([... base ...])])`: each level escapes the backslashes again, doubling the text."""
    source = base
    for _ in range(levels):
        source = f"str([{source}])"
    return source


def test_str_of_nested_lists_cannot_double_past_the_limit() -> None:
    assert len(evaluate(_nested_str(1), {})) == 5004  # 2,500 backslashes, escaped, in brackets
    with pytest.raises(ExpressionError, match=f"more than {MAX_ITEMS} items \\(MAX_ITEMS\\)"):
        evaluate(_nested_str(2), {})


def test_forty_nested_strs_are_refused_without_building_the_gigabyte() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionError, match="MAX_ITEMS"):
            evaluate(_nested_str(40, "'\\\\' * 10"), {})
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 1_000_000  # unguarded, the result would be about 1 GiB


@pytest.mark.parametrize(
    "source",
    [
        "[text, text]",
        "(text, text)",
        "{'a': text, 'b': text}",
        "{text, text + '!'}",
        "str([text, text])",
        "str(texts)",
        "str([number] * 20)",
    ],
)
def test_every_value_an_expression_builds_is_bounded(source: str) -> None:
    context = {"text": "x" * 6000, "texts": ["y" * 100] * 200, "number": 10**999}
    with pytest.raises(ExpressionError, match="MAX_ITEMS"):
        evaluate(source, context)


def test_values_within_the_limit_are_built() -> None:
    context = {"text": "x" * 4000}
    assert evaluate("[text, text]", context) == ["x" * 4000] * 2
    assert len(evaluate("str({'a': text, 'b': text})", context)) == 8018


def test_a_string_literal_over_the_limit_is_refused_when_checked() -> None:
    compile_expression("'" + "a" * MAX_ITEMS + "'")
    with pytest.raises(ExpressionError, match="string literals of more than MAX_ITEMS"):
        compile_expression("'" + "a" * (MAX_ITEMS + 1) + "'")


def test_integer_results_over_100_digits_are_refused() -> None:
    assert evaluate("n * 10", {"n": 10**98}) == 10**99  # 100 digits
    with pytest.raises(ExpressionError, match="more than 100 digits"):
        evaluate("n * 10", {"n": 10**99})
    with pytest.raises(ExpressionError, match="more than 100 digits"):
        evaluate("n * n", {"n": 10**5000})  # refused before multiplying
    with pytest.raises(ExpressionError, match="more than 100 digits"):
        evaluate("int(digits)", {"digits": "9" * 101})


@pytest.mark.parametrize(
    "source",
    ["-" * 10_000 + "1", "not " * 5_000 + "x", "(" * 300 + "1" + ")" * 300, "[" * 150 + "]" * 150],
)
def test_deep_nesting_is_refused_cleanly(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


# -- errors -----------------------------------------------------------------------------------


def test_unknown_name_message_names_the_variable() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("outcome == 'return' and reviewd", {"outcome": "return"})

    assert str(caught.value) == "unknown name 'reviewd'"


@pytest.mark.parametrize("source", ["a ==", "(a ==\n b ==)", "a b", "outcome = 'x'", "a\0"])
def test_syntax_error_gives_a_one_line_message(source: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)

    message = str(caught.value)
    assert message.startswith("syntax error in expression")
    assert "\n" not in message


def test_empty_expression_is_refused() -> None:
    with pytest.raises(ExpressionError, match="expression is empty"):
        compile_expression("   \n ")


@pytest.mark.parametrize(
    ("source", "context", "error"),
    [
        ("1 / 0", {}, ZeroDivisionError),
        ('data["missing"]', {"data": {}}, KeyError),
        ("items[5]", {"items": [1]}, IndexError),
        ('"a" + 1', {}, TypeError),
        ('int("seven")', {}, ValueError),
    ],
)
def test_runtime_errors_are_wrapped_with_the_expression_text(
    source: str, context: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, context)

    message = str(caught.value)
    assert message.startswith(f"{error.__name__} in expression {source!r}")
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, error)


def test_subscript_is_limited_to_dicts_lists_tuples_and_strings() -> None:
    log: list[str] = []

    with pytest.raises(ExpressionError, match="can be subscripted"):
        evaluate("x[0]", {"x": _Spy(log)})
    with pytest.raises(ExpressionError, match="slicing"):
        evaluate("items[cut]", {"items": [1, 2, 3], "cut": slice(0, 2)})
    assert log == []


def test_non_string_source_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be a string"):
        compile_expression(42)  # type: ignore[arg-type]


# -- the Expression object ------------------------------------------------------------------


def test_compile_expression_returns_the_same_object_for_the_same_source() -> None:
    first = compile_expression('level == "red"')

    assert compile_expression('level == "red"') is first
    assert compile_expression('level == "yellow"') is not first
    assert first.source == 'level == "red"'


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ('outcome == "return"', {"outcome"}),
        ("a and b[c] or len(d) > e if f else {g: [h, (i,)]}", set("abcdefghi")),
        ("len(items) + min(x, 1)", {"items", "x"}),  # function names are not variables
        ('"P14D"', set()),
        ("x + x", {"x"}),
    ],
)
def test_names_lists_the_free_variables(source: str, names: set[str]) -> None:
    assert compile_expression(source).names == frozenset(names)


def test_expression_is_immutable_and_copies_stay_checked() -> None:
    expression = compile_expression("count > 2")

    with pytest.raises(AttributeError):
        expression.source = "__import__('os')"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del expression.names  # type: ignore[misc]
    assert copy.deepcopy(expression) is expression
    assert pickle.loads(pickle.dumps(expression)) is expression
    assert expression == Expression("count > 2")


def test_functions_whitelist_is_fixed() -> None:
    assert set(FUNCTIONS) == {
        "abs",
        "all",
        "any",
        "bool",
        "float",
        "int",
        "len",
        "max",
        "min",
        "round",
        "str",
    }
    with pytest.raises(TypeError):
        FUNCTIONS["open"] = open  # type: ignore[index]
