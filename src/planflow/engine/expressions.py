"""Safe evaluation of BPMN gateway conditions and timer expressions.

SpiffWorkflow evaluates these with plain `eval`, but a BPMN file is data: it must not be able
to run code. Here an expression is parsed, every node is checked against a whitelist of
syntax, and the checked tree is interpreted directly; nothing is ever compiled to bytecode.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn

__all__ = [
    "FUNCTIONS",
    "MAX_INT_DIGITS",
    "MAX_ITEMS",
    "MAX_NESTING",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "evaluate",
]

MAX_ITEMS = 10_000
"""Most items any value an expression builds may hold, nested items and characters counted
(a string of 10,000 characters, a list of 10,000 numbers). Conditions and timer expressions
compare answers and build a date or duration: a few hundred characters would do, and 10,000
leaves room for long free-text answers while a result stays far below a megabyte, so no
expression can make the instance lock wait on a huge allocation."""

MAX_INT_DIGITS = 100
"""Most decimal digits an integer result may have."""

MAX_NESTING = 100
"""Deepest nesting of sub-expressions admitted, so checking and evaluating never hit the
recursion limit."""

# The smallest integer with more than MAX_INT_DIGITS digits.
_INT_LIMIT = 10**MAX_INT_DIGITS

# Sequences whose `*` and `+` are guarded: they are the ones that can amplify a short
# expression into a huge allocation.
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_TEXT = (str, bytes, bytearray)
_CONTAINERS = (list, tuple, set, frozenset, dict)
_SUBSCRIPTABLE = (dict, list, tuple, str)


class ExpressionError(ValueError):
    """Raised when an expression is malformed, refused, or fails while evaluating."""


class _Refused(Exception):
    """A guard tripped during evaluation; `Expression.evaluate` adds the expression text."""


def _round(number: Any, ndigits: Any = None) -> Any:
    """Round like the builtin, refusing precisions that would build huge powers of ten."""
    # int.__round__ computes 10 ** -ndigits, so round(1, -100000000) would run for minutes.
    if ndigits is not None and abs(operator.index(ndigits)) > MAX_INT_DIGITS:
        raise _Refused(f"round() to more than {MAX_INT_DIGITS} digits is not allowed")
    return round(number, ndigits)


def _str(value: Any = "") -> str:
    """`str(value)`, refused before converting a value too big to stay under MAX_ITEMS."""
    # The check after the call bounds the result; this one bounds the work of the call itself,
    # since a text is at most ten times longer than the items it shows (escapes like \U0001f600).
    if _weight(value, MAX_ITEMS) > MAX_ITEMS:
        raise _too_big("'str()'")
    return str(value)


FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "abs": abs,
        "all": all,
        "any": any,
        "bool": bool,
        "float": float,
        "int": int,
        "len": len,
        "max": max,
        "min": min,
        "round": _round,
        "str": _str,
    }
)
"""The only functions an expression may call, by bare name; context values are never callable."""

_BINARY_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
}

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Lambda: "lambda",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "unpacking with *",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.Slice: "slicing",
}


def _one_line(text: str, limit: int = 200) -> str:
    """Squash a message onto one line of bounded length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quote(source: str, limit: int = 80) -> str:
    """Quote expression text for a message: repr keeps it on one line, the cut keeps it short."""
    return repr(source if len(source) <= limit else source[: limit - 3] + "...")


# -- checking -------------------------------------------------------------------------------


class _Checker:
    """Walks a parsed tree, refusing anything off the whitelist and collecting free names."""

    def __init__(self, text: str) -> None:
        self._text = text
        self.names: set[str] = set()

    def _refuse(self, node: ast.AST, reason: str) -> NoReturn:
        """Raise naming the construct and quoting the offending source."""
        snippet = ast.get_source_segment(self._text, node) or ast.unparse(node)
        raise ExpressionError(f"{reason}: {_quote(_one_line(snippet))}")

    def check(self, node: ast.AST, depth: int = 0) -> None:
        """Refuse `node` unless it and everything under it is whitelisted."""
        if depth > MAX_NESTING:
            raise ExpressionError(
                f"expression {_quote(self._text)} is nested more than {MAX_NESTING} levels deep"
            )
        children: list[ast.expr]
        match node:
            case ast.Constant(value=value):
                self._check_constant(node, value)
                children = []
            case ast.Name(id=name):
                if name.startswith("_"):
                    self._refuse(node, "names starting with an underscore are not allowed in expressions")
                self.names.add(name)
                children = []
            case ast.BoolOp(values=values):
                children = values
            case ast.UnaryOp(op=op, operand=operand):
                if type(op) not in _UNARY_OPERATORS:  # only `~`
                    self._refuse(node, "the '~' operator is not allowed in expressions")
                children = [operand]
            case ast.BinOp(left=left, op=op, right=right):
                if type(op) not in _BINARY_OPERATORS:
                    symbol = _BINARY_SYMBOLS.get(type(op), type(op).__name__)
                    self._refuse(node, f"the '{symbol}' operator is not allowed in expressions")
                children = [left, right]
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                # All ten Python comparison operators are whitelisted; checked to fail closed.
                for comparison in ops:
                    if type(comparison) not in _COMPARISONS:
                        self._refuse(node, f"{type(comparison).__name__} is not allowed in expressions")
                children = [left, *comparators]
            case ast.IfExp(test=test, body=body, orelse=orelse):
                children = [test, body, orelse]
            case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
                children = elts
            case ast.Dict(keys=keys, values=values):
                if any(key is None for key in keys):
                    self._refuse(node, "unpacking with ** is not allowed in expressions")
                children = [*(key for key in keys if key is not None), *values]
            case ast.Subscript(value=value, slice=index):
                if isinstance(index, ast.Slice):
                    self._refuse(node, "slicing is not allowed in expressions")
                children = [value, index]
            case ast.Call():
                children = self._check_call(node, depth)
            case _:
                what = _REFUSED_NODES.get(type(node), f"{type(node).__name__} syntax")
                self._refuse(node, f"{what} is not allowed in expressions")
        for child in children:
            self.check(child, depth + 1)

    def _check_constant(self, node: ast.Constant, value: object) -> None:
        """Admit only plain scalar literals, and none too big to compute with cheaply."""
        if value is not None and type(value) not in (str, int, float, bool):
            kind = "..." if value is Ellipsis else f"a {type(value).__name__} literal"
            self._refuse(node, f"{kind} is not allowed in expressions")
        if type(value) is int and value >= _INT_LIMIT:
            self._refuse(node, f"integer literals with more than {MAX_INT_DIGITS} digits are not allowed")
        if type(value) is str and len(value) > MAX_ITEMS:
            limit = f"MAX_ITEMS ({MAX_ITEMS})"
            self._refuse(node, f"string literals of more than {limit} characters are not allowed")

    def _check_call(self, node: ast.Call, depth: int) -> list[ast.expr]:
        """Admit only positional calls of a whitelisted function named directly."""
        if not isinstance(node.func, ast.Name):
            # Check the callee first so `x.y()` or `(lambda: 1)()` is refused for what it is.
            self.check(node.func, depth + 1)
            self._refuse(node, "only the whitelisted functions may be called, and only by bare name")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            self._refuse(node, f"calling {name!r} is not allowed in expressions (allowed: {allowed})")
        if node.keywords:
            self._refuse(node, "keyword arguments are not allowed in expressions")
        # The callee is a function from FUNCTIONS, not a variable, so it is not in `names`.
        return list(node.args)


def _parse(source: str) -> tuple[ast.expr, frozenset[str]]:
    """Parse and check `source`, returning the checked tree and its free variable names."""
    # BPMN condition text often carries the XML's indentation and line breaks around it.
    text = source.strip()
    if not text:
        raise ExpressionError("expression is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        # Offsets are 1-based; CPython reports 0 or None when it has no useful position.
        where = f" at column {exc.offset}" if exc.offset else ""
        if exc.lineno and exc.lineno != 1:
            where = f" at line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        raise ExpressionError(
            f"syntax error in expression {_quote(source)}{where}: {_one_line(exc.msg or '')}"
        ) from None
    except (RecursionError, MemoryError):
        # CPython's parser gives up on very deep nesting with these rather than SyntaxError.
        raise ExpressionError(
            f"expression {_quote(source)} is nested more than {MAX_NESTING} levels deep"
        ) from None
    except ValueError as exc:  # e.g. NUL bytes in the source
        raise ExpressionError(f"invalid expression {_quote(source)}: {_one_line(str(exc))}") from None
    checker = _Checker(text)
    checker.check(tree.body)
    return tree.body, frozenset(checker.names)


# -- evaluation -----------------------------------------------------------------------------


def _weight(value: Any, limit: int) -> int:
    """Count the items in `value`, nested items and characters included, stopping past `limit`."""
    # Counting nested items catches `[[0] * 10000] * 10000`: only 10,000 long, but str() or ==
    # on it would touch 10**8 elements. Iterative, so self-referencing data cannot recurse.
    total = 0
    pending = [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, _TEXT):
            total += len(item)
        elif isinstance(item, int):
            # About its decimal digits (0.3 per bit) beyond the slot its container counts, so
            # `str([n] * 9999)` of a 4,000-digit n from the task data weighs what its text would.
            total += item.bit_length() * 3 // 10
        elif isinstance(item, _CONTAINERS):
            total += len(item)
            if total <= limit:
                if isinstance(item, dict):
                    pending.extend(item.keys())
                    pending.extend(item.values())
                else:
                    pending.extend(item)
    return total


def _too_big(what: str) -> _Refused:
    """The refusal for a result over MAX_ITEMS."""
    return _Refused(f"{what} would build a result of more than {MAX_ITEMS} items (MAX_ITEMS)")


def _check_int(value: Any) -> Any:
    """Pass `value` through unless it is an integer with more than MAX_INT_DIGITS digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT_LIMIT:
        raise _Refused(f"integer results with more than {MAX_INT_DIGITS} digits are not allowed")
    return value


def _bounded(value: Any, what: str) -> Any:
    """Pass a value the interpreter built through unless it is over MAX_ITEMS or MAX_INT_DIGITS."""
    # Checked on every built value, not only on `*` and `+`: str() of a nested list escapes
    # its backslashes and quotes again, doubling per level, so 40 nested str([...]) of a short
    # string would reach a gigabyte without any repetition.
    if isinstance(value, (*_TEXT, *_CONTAINERS)) and _weight(value, MAX_ITEMS) > MAX_ITEMS:
        raise _too_big(what)
    return _check_int(value)


def _repeat(sequence: Any, times: Any) -> Any:
    """`sequence * times`, refused before allocating if the result would be too big."""
    count = operator.index(times)
    if count > 0 and _weight(sequence, MAX_ITEMS) * count > MAX_ITEMS:
        raise _too_big("'*'")
    return sequence * count


def _multiply(left: Any, right: Any) -> Any:
    """`left * right` with sequence repetition and integer growth bounded up front."""
    if isinstance(left, _SEQUENCES):
        return _repeat(left, right)
    if isinstance(right, _SEQUENCES):
        return _repeat(right, left)
    if isinstance(left, int) and isinstance(right, int) and left and right:
        # |a*b| >= 2**(bits(a)+bits(b)-2); past the limit's bit length the product is surely
        # too long, so refuse before multiplying two huge context integers.
        if left.bit_length() + right.bit_length() - 2 >= _INT_LIMIT.bit_length():
            raise _Refused(f"integer results with more than {MAX_INT_DIGITS} digits are not allowed")
    return left * right


def _add(left: Any, right: Any) -> Any:
    """`left + right`, refusing concatenations that would be too big."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        if _weight(left, MAX_ITEMS) + _weight(right, MAX_ITEMS) > MAX_ITEMS:
            raise _too_big("'+'")
    return left + right


def _modulo(left: Any, right: Any) -> Any:
    """Numeric `left % right`; string formatting is refused."""
    # A width specifier ("%0100000000d" % 1) builds a huge string from a short expression.
    if isinstance(left, _TEXT):
        raise _Refused("string formatting with '%' is not allowed in expressions")
    return left % right


_BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _modulo,
}

_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda item, container: item in container,
    ast.NotIn: lambda item, container: item not in container,
}

_MISSING = object()


def _eval(node: ast.expr, context: Mapping[str, Any]) -> Any:
    """Interpret one checked node against `context`, with Python's semantics."""
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            # .get rather than [] so a defaultdict context is not mutated by a lookup.
            value = context.get(name, _MISSING)
            if value is _MISSING:
                raise ExpressionError(f"unknown name {name!r}")
            return value
        case ast.BoolOp(op=op, values=values):
            # Python's short-circuit, returning the deciding operand: `and` stops at the first
            # falsy operand, `or` at the first truthy one.
            stop_when = not isinstance(op, ast.And)
            result: Any = None
            for operand in values:
                result = _eval(operand, context)
                if bool(result) is stop_when:
                    break
            return result
        case ast.UnaryOp(op=op, operand=operand):
            return _bounded(_UNARY_OPERATORS[type(op)](_eval(operand, context)), "a unary operator")
        case ast.BinOp(left=left, op=op, right=right):
            left_value = _eval(left, context)
            right_value = _eval(right, context)
            symbol = _BINARY_SYMBOLS[type(op)]
            return _bounded(_BINARY_OPERATORS[type(op)](left_value, right_value), f"'{symbol}'")
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            # `a < b < c` is `a < b and b < c` with b evaluated once.
            current = _eval(left, context)
            outcome: Any = True
            for comparison, comparator in zip(ops, comparators, strict=True):
                following = _eval(comparator, context)
                outcome = _COMPARISONS[type(comparison)](current, following)
                if not outcome:
                    break
                current = following
            return outcome
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body if _eval(test, context) else orelse, context)
        case ast.List(elts=elts):
            return _bounded([_eval(item, context) for item in elts], "a list")
        case ast.Tuple(elts=elts):
            return _bounded(tuple(_eval(item, context) for item in elts), "a tuple")
        case ast.Set(elts=elts):
            return _bounded({_eval(item, context) for item in elts}, "a set")
        case ast.Dict(keys=keys, values=values):
            # The checker refused `**` unpacking, so no key is None.
            built = {
                _eval(key, context): _eval(value, context)  # type: ignore[arg-type]
                for key, value in zip(keys, values, strict=True)
            }
            return _bounded(built, "a dict")
        case ast.Subscript(value=container_node, slice=index_node):
            container = _eval(container_node, context)
            index = _eval(index_node, context)
            if not isinstance(container, _SUBSCRIPTABLE):
                raise TypeError(
                    f"only dicts, lists, tuples and strings can be subscripted, "
                    f"not {type(container).__name__!r}"
                )
            if isinstance(index, slice):  # a slice object smuggled in through the context
                raise TypeError("slicing is not allowed in expressions")
            return container[index]
        case ast.Call(func=ast.Name(id=name), args=args):
            arguments = [_eval(argument, context) for argument in args]
            return _bounded(FUNCTIONS[name](*arguments), f"'{name}()'")
    # Unreachable for a checked tree; kept so a checker gap fails closed.
    raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")


# -- public API -----------------------------------------------------------------------------


class Expression:
    """A checked expression, ready to evaluate against task data (built by `compile_expression`)."""

    __slots__ = ("source", "names", "_tree")

    source: str
    names: frozenset[str]
    _tree: ast.expr

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise ExpressionError(f"expression must be a string, not {type(source).__name__}")
        tree, names = _parse(source)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_tree", tree)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Expression is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Expression is immutable")

    def __reduce__(self) -> tuple[Callable[[str], Expression], tuple[str]]:
        # Copies and pickles are rebuilt through the checked, cached constructor.
        return compile_expression, (self.source,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.source == self.source

    def __hash__(self) -> int:
        return hash((Expression, self.source))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Evaluate against `context` (name -> value); every failure is an ExpressionError."""
        try:
            return _eval(self._tree, context)
        except ExpressionError:
            raise
        except _Refused as exc:
            raise ExpressionError(f"{exc}: {_quote(self.source)}") from None
        except Exception as exc:
            raise ExpressionError(
                f"{type(exc).__name__} in expression {_quote(self.source)}: {_one_line(str(exc))}"
            ) from exc


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> Expression:
    """Parse and check `source` once; the same text returns the same Expression."""
    return Expression(source)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """Check and evaluate `source` against `context` in one step."""
    return compile_expression(source).evaluate(context)
