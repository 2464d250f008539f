"""Safe evaluation of BPMN gateway conditions and timer expressions.

SpiffWorkflow evaluates these with plain `eval`, but a BPMN file is data: it must not be able
to run code. A planflow diagram asks an expression which answer was given (`decision ==
"approve"`) or which value a timer waits for (`escalation_after`), so the language is that:

    expression := expression "and" expression | expression "or" expression
                | "not" expression | "(" expression ")"
                | operand ("==" | "!=") operand
                | operand ["not"] "in" "(" literal, ... ")"      or [literal, ...]
                | operand
    operand    := name | literal           a name may not start with "_"
    literal    := "text" | integer | True | False | None

Python's parser reads the text (`ast.parse` builds a tree and compiles nothing); every node must
be one of the few above, anything else (a call, an attribute, a subscript, arithmetic, a lambda,
a comprehension) is refused by name, and the checked tree is interpreted directly. `and`, `or`
and `not` give True or False; a name the data does not hold is an error, never a silent False.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

__all__ = ["MAX_LENGTH", "MAX_NESTING", "Expression", "ExpressionError", "compile_expression", "evaluate"]

MAX_LENGTH = 1000
"""Longest expression admitted, surrounding whitespace aside. A condition is a few dozen
characters and a timer's ISO 8601 date about 30; the bound keeps the parser's work small."""

MAX_NESTING = 100
"""Deepest nesting of `and`, `or` and `not` admitted, so checking and evaluating never come near
the recursion limit. A diagram's condition nests two or three levels."""

_LITERALS = (str, int, bool, type(None))  # exact types: a literal's type is bool, never int

_REFUSED: dict[type[ast.AST], str] = {
    ast.Call: "calling a function",
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.BinOp: "arithmetic",
    ast.IfExp: "a conditional expression",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "an f-string",
}


class ExpressionError(ValueError):
    """Raised when an expression is malformed, refused, or names a value the data lacks."""


def _quote(text: str, limit: int = 80) -> str:
    """Quote expression text for a one-line message: repr keeps it on one line, the cut short."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _Checker:
    """Walks a parsed tree, refusing anything outside the grammar and collecting its names."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.names: set[str] = set()

    def refuse(self, node: ast.AST, what: str) -> NoReturn:
        snippet = ast.get_source_segment(self.text, node) or ast.unparse(node)
        raise ExpressionError(f"{what} is not allowed in expressions: {_quote(' '.join(snippet.split()))}")

    def expression(self, node: ast.expr, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise ExpressionError(
                f"expression {_quote(self.text)} is nested more than {MAX_NESTING} levels deep"
            )
        match node:
            case ast.BoolOp(values=values):
                for value in values:
                    self.expression(value, depth + 1)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                self.expression(operand, depth + 1)
            case ast.UnaryOp():
                self.refuse(node, "an operator other than 'not'")
            case ast.Compare(ops=[ast.In() | ast.NotIn()], comparators=[right]):
                self.operand(node.left)
                if not isinstance(right, (ast.Tuple, ast.List)):
                    self.refuse(node, "'in' on anything but a list of literals")
                for item in right.elts:
                    self.literal(item)
            case ast.Compare(ops=[ast.Eq() | ast.NotEq()], comparators=[right]):
                self.operand(node.left)
                self.operand(right)
            case ast.Compare(ops=[_]):
                self.refuse(node, "a comparison other than ==, !=, in and not in")
            case ast.Compare():
                self.refuse(node, "a chained comparison")
            case _:
                self.operand(node)

    def operand(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                self.refuse(node, "a name starting with an underscore")
            self.names.add(node.id)
        elif isinstance(node, ast.Constant):
            self.literal(node)
        else:
            self.refuse(node, _REFUSED.get(type(node), f"{type(node).__name__} syntax"))

    def literal(self, node: ast.expr) -> None:
        if not isinstance(node, ast.Constant):
            self.refuse(node, "anything but a literal in an 'in' list")
        if type(node.value) not in _LITERALS:
            kind = "..." if node.value is Ellipsis else f"a {type(node.value).__name__} literal"
            self.refuse(node, kind)


_MISSING = object()


def _eval(node: ast.expr, context: Mapping[str, Any]) -> Any:
    """Interpret a checked tree against `context` (name -> value)."""
    match node:
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(value, context) for value in values)
        case ast.BoolOp(values=values):
            return any(_eval(value, context) for value in values)
        case ast.UnaryOp(operand=operand):
            return not _eval(operand, context)
        case ast.Compare(left=left, ops=[op], comparators=[ast.Tuple(elts=items) | ast.List(elts=items)]):
            found = _eval(left, context) in [_eval(item, context) for item in items]
            return found if isinstance(op, ast.In) else not found
        case ast.Compare(left=left, ops=[op], comparators=[right]):
            equal = _eval(left, context) == _eval(right, context)
            return equal if isinstance(op, ast.Eq) else not equal
        case ast.Name(id=name):
            # .get rather than [] so that a lookup does not add a key to a defaultdict.
            value = context.get(name, _MISSING)
            if value is _MISSING:
                raise ExpressionError(f"unknown name {name!r}")
            return value
        case ast.Constant(value=value):
            return value
    raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")  # fail closed


@dataclass(frozen=True)
class Expression:
    """A checked expression (built by `compile_expression`): its text, the names it reads."""

    source: str
    names: frozenset[str]
    tree: ast.expr = field(repr=False, compare=False)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate against `context` (name -> value); a missing name is an ExpressionError."""
        return _eval(self.tree, context)


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> Expression:
    """Parse and check `source` once; the same text returns the same Expression."""
    if not isinstance(source, str):
        raise ExpressionError(f"expression must be a string, not {type(source).__name__}")
    text = source.strip()  # BPMN condition text often carries the XML's indentation
    if not text:
        raise ExpressionError("expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression {_quote(text)} is longer than MAX_LENGTH ({MAX_LENGTH} characters)"
        )
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte, on Python 3.11
        reason = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        where = f" at column {exc.offset}" if isinstance(exc, SyntaxError) and exc.offset else ""
        raise ExpressionError(f"syntax error in expression {_quote(text)}{where}: {reason}") from None
    checker = _Checker(text)
    checker.expression(tree)
    return Expression(source, frozenset(checker.names), tree)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """Check and evaluate `source` against `context` in one step."""
    return compile_expression(source).evaluate(context)
