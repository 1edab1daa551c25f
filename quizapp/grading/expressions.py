"""Safe arithmetic expressions for answers and derived parameters.

An expression is parsed with :func:`ast.parse` and every node is checked against an
allow-list; it is then evaluated by walking that tree. Nothing is ever passed to
``eval``, ``exec`` or ``compile``.

Allowed: numbers, parameter names, ``+ - * / ** %`` (binary), unary ``+`` and ``-``,
parentheses, and calls (positional arguments only) of the functions in
:data:`FUNCTIONS`. Everything else is refused with a message naming the construct.

Arithmetic is done in floats, so a huge power overflows at once instead of building
a huge integer. Any operation whose result is not a finite float (overflow, division
by zero, a math domain error such as ``sqrt(-1)``, ``(-8) ** (1/3)`` or ``log(0)``) is
an :class:`ExpressionError`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from types import MappingProxyType

#: Longest accepted source text, and deepest accepted nesting of operations:
#: generous for any formula an instructor writes, and a bound on work and recursion.
MAX_SOURCE_LENGTH = 1000
MAX_DEPTH = 100

#: Digits accepted by ``round(x, n)``: ``n`` is a whole number in this range.
ROUND_DIGITS = range(-12, 13)


class ExpressionError(ValueError):
    """An expression is not allowed, or could not be evaluated; the message says why."""


def round_to(value: float, digits: int) -> float:
    """Round half away from zero to ``digits`` decimals (negative: tens, hundreds...).

    Rounding works on the shortest decimal text of the float (its ``repr``), so
    ``round_to(2.675, 2) == 2.68`` and ``round_to(2.5, 0) == 3.0``, as an instructor
    expects; Python's :func:`round` would give 2.67 and 2.0. ``-0.0`` becomes ``0.0``.
    """
    exact = Decimal(repr(float(value)))
    # Enough precision for any finite float rounded to at most 12 decimals.
    context = Context(prec=400, rounding=ROUND_HALF_UP)
    rounded = exact.quantize(Decimal(1).scaleb(-digits), context=context)
    return float(rounded) + 0.0


def _round(value: float, digits: float = 0.0) -> float:
    if not digits.is_integer() or int(digits) not in ROUND_DIGITS:
        raise ExpressionError(
            f"round: the number of digits must be a whole number from "
            f"{ROUND_DIGITS.start} to {ROUND_DIGITS.stop - 1}, not {_show(digits)}"
        )
    return round_to(value, int(digits))


def _log(value: float, base: float = math.e) -> float:
    return math.log(value, base)


_IMPLEMENTATIONS: dict[str, Callable[..., float]] = {
    "abs": abs,
    # Through a tuple, so that min(x) of one argument is x (min(2.0) would raise).
    "min": lambda *arguments: min(arguments),
    "max": lambda *arguments: max(arguments),
    "round": _round,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": _log,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}

#: The functions an expression may call: name -> (fewest, most arguments; None: any).
#: ``log(x)`` is the natural logarithm, ``log(x, b)`` the logarithm in base ``b``;
#: ``round(x, n)`` rounds half away from zero (see :func:`round_to`).
FUNCTIONS: Mapping[str, tuple[int, int | None]] = MappingProxyType(
    {
        "abs": (1, 1),
        "min": (1, None),
        "max": (1, None),
        "round": (1, 2),
        "sqrt": (1, 1),
        "exp": (1, 1),
        "log": (1, 2),
        "sin": (1, 1),
        "cos": (1, 1),
        "tan": (1, 1),
    }
)

_BINARY: dict[type[ast.operator], tuple[str, Callable[[float, float], float]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Mod: ("%", lambda a, b: a % b),
    ast.Pow: ("**", math.pow),
}

_REFUSED_OPERATORS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "the operator //",
    ast.MatMult: "the operator @",
    ast.LShift: "the operator <<",
    ast.RShift: "the operator >>",
    ast.BitOr: "the operator |",
    ast.BitAnd: "the operator &",
    ast.BitXor: "the operator ^ (write powers as x ** 2)",
    ast.Invert: "the operator ~",
    ast.Not: "the operator not",
}

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (.)",
    ast.Subscript: "subscripts ([...])",
    ast.Slice: "slices",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators (and, or)",
    ast.IfExp: "conditional expressions (... if ... else ...)",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Starred: "unpacking (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


@dataclass(frozen=True)
class Expression:
    """A checked expression; build it with :func:`parse_expression`.

    ``source`` is the text as written, ``names`` the parameter names it uses.
    """

    source: str
    names: frozenset[str]
    tree: ast.expr = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The value for these parameter values, as a finite float.

        :raise ExpressionError: a name has no value (or a value that is not a finite
            number), or an operation fails (division by zero, domain error,
            overflow, non-finite result).
        """
        env: dict[str, float] = {}
        for name in self.names:
            if name not in values:
                raise ExpressionError(f"unknown name {name!r}")
            env[name] = _as_float(name, values[name])
        return _evaluate(self.tree, env)


def parse_expression(source: str) -> Expression:
    """Parse and check ``source``, surrounding whitespace ignored.

    :raise ExpressionError: it is not a string, is longer than
        :data:`MAX_SOURCE_LENGTH`, does not parse, nests deeper than
        :data:`MAX_DEPTH`, or uses anything outside the allow-list.
    """
    if not isinstance(source, str):
        raise ExpressionError(
            f"an expression must be text, not {type(source).__name__}"
        )
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"an expression may be at most {MAX_SOURCE_LENGTH} characters long"
        )
    return _parse(source)


@lru_cache(maxsize=4096)
def _parse(source: str) -> Expression:
    # Cached: an Expression is immutable, and the same answer is graded many times.
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except (SyntaxError, ValueError) as error:
        reason = error.msg if isinstance(error, SyntaxError) else str(error)
        raise ExpressionError(f"not a valid expression: {reason}") from None
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested") from None
    return Expression(source=source, names=frozenset(_check(tree, 0)), tree=tree)


def _refuse(what: str, node: ast.AST) -> ExpressionError:
    column = getattr(node, "col_offset", None)
    where = "" if column is None else f" (column {column + 1})"
    return ExpressionError(f"not allowed: {what}{where}")


def _check(node: ast.expr, depth: int) -> set[str]:
    """The free names of an allowed node; raise ExpressionError for anything else."""
    if depth > MAX_DEPTH:
        raise ExpressionError(
            f"the expression is too deeply nested (more than {MAX_DEPTH} levels)"
        )
    match node:
        case ast.Constant(value=value):
            _check_constant(value, node)
            return set()
        case ast.Name(id=name):
            if name in FUNCTIONS:
                raise ExpressionError(f"{name} is a function: call it as {name}(...)")
            return {name}
        case ast.UnaryOp(op=ast.UAdd() | ast.USub(), operand=operand):
            return _check(operand, depth + 1)
        case ast.UnaryOp(op=op) | ast.BinOp(op=op) if type(op) not in _BINARY:
            raise _refuse(_REFUSED_OPERATORS.get(type(op), type(op).__name__), node)
        case ast.BinOp(left=left, right=right):
            return _check(left, depth + 1) | _check(right, depth + 1)
        case ast.Call():
            return _check_call(node, depth)
    raise _refuse(_REFUSED_NODES.get(type(node), type(node).__name__), node)


def _check_constant(value: object, node: ast.Constant) -> None:
    if isinstance(value, str):
        raise _refuse("strings", node)
    if type(value) not in (int, float):
        raise _refuse(f"the constant {value!r}", node)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        column = node.col_offset + 1
        raise ExpressionError(
            f"a number is too large to compute with (column {column})"
        )


def _check_call(node: ast.Call, depth: int) -> set[str]:
    if not isinstance(node.func, ast.Name):
        _check(node.func, depth + 1)
        raise _refuse("calling something that is not a function name", node)
    name = node.func.id
    if name not in FUNCTIONS:
        allowed = ", ".join(FUNCTIONS)
        raise _refuse(f"the function {name} (allowed: {allowed})", node)
    if node.keywords:
        raise _refuse("keyword arguments", node.keywords[0].value)
    names: set[str] = set()
    for argument in node.args:
        names |= _check(argument, depth + 1)
    fewest, most = FUNCTIONS[name]
    count = len(node.args)
    if count < fewest or (most is not None and count > most):
        raise ExpressionError(f"{name} takes {_arity(fewest, most)}, not {count}")
    return names


def _arity(fewest: int, most: int | None) -> str:
    if most is None:
        return f"at least {fewest} argument{'s' * (fewest != 1)}"
    if fewest == most:
        return f"{fewest} argument{'s' * (fewest != 1)}"
    return f"{fewest} to {most} arguments"


def _as_float(name: str, value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise ExpressionError(f"the value of {name!r} is not a finite number: {value!r}")


def _show(value: float) -> str:
    return format(value, ".10g")


def _operand(value: float) -> str:
    return f"({_show(value)})" if value < 0 else _show(value)


def _evaluate(node: ast.expr, env: Mapping[str, float]) -> float:
    match node:
        case ast.Constant(value=value):
            return float(value)
        case ast.Name(id=name):
            return env[name]
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_evaluate(operand, env)
        case ast.UnaryOp(operand=operand):
            return _evaluate(operand, env)
        case ast.BinOp(left=left, op=op, right=right):
            a, b = _evaluate(left, env), _evaluate(right, env)
            symbol, operation = _BINARY[type(op)]
            shown = f"{_operand(a)} {symbol} {_operand(b)}"
            return _apply(shown, operation, a, b)
        case ast.Call(func=ast.Name(id=name), args=args):
            arguments = [_evaluate(argument, env) for argument in args]
            shown = ", ".join(map(_show, arguments))
            return _apply(f"{name}({shown})", _IMPLEMENTATIONS[name], *arguments)
    raise AssertionError(f"unchecked node {type(node).__name__}")


def _apply(shown: str, operation: Callable[..., float], *arguments: float) -> float:
    try:
        result = float(operation(*arguments))
    except ExpressionError:
        raise
    except ZeroDivisionError:
        raise ExpressionError(f"division by zero: {shown}") from None
    except OverflowError:
        raise ExpressionError(f"{shown} is too large") from None
    except ValueError:
        raise ExpressionError(f"{shown} is undefined") from None
    if not math.isfinite(result):
        raise ExpressionError(f"{shown} is too large")
    return result
