"""Expressions: what evaluates, and every construct that is refused with a message."""

from __future__ import annotations

import math
import re
import time

import pytest

from quizapp.grading import FUNCTIONS, ExpressionError, parse_expression
from quizapp.grading.expressions import MAX_SOURCE_LENGTH, round_to

VALUES = {"w": 2, "x": 1.5, "b": -0.25}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("w * x + b", 2.75),
        ("(w + x) * 2", 7.0),
        ("w ** 3", 8.0),
        ("2 ** -1", 0.5),
        ("-w ** 2", -4.0),  # Python precedence: -(w ** 2)
        ("+x", 1.5),
        ("7 / 2", 3.5),
        ("7 % 3", 1.0),
        ("-7 % 3", 2.0),  # the result takes the sign of the divisor
        ("1_000 + 0x10", 1016.0),
        ("1e3", 1000.0),
        ("abs(b)", 0.25),
        ("min(w, x, 4)", 1.5),
        ("max(w)", 2.0),
        ("round(2.675, 2)", 2.68),  # half away from zero on the decimal text
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("round(1234, -2)", 1200.0),
        ("sqrt(16)", 4.0),
        ("exp(0)", 1.0),
        ("log(exp(2))", 2.0),
        ("log(8, 2)", 3.0),
        ("sin(0) + cos(0) + tan(0)", 1.0),
        ("  w * x \n", 3.0),
    ],
)
def test_allowed_expressions_evaluate(source, expected):
    assert parse_expression(source).evaluate(VALUES) == pytest.approx(expected)


def test_results_are_floats():
    assert type(parse_expression("w + 1").evaluate({"w": 2})) is float


def test_names_are_the_free_names_without_functions():
    expression = parse_expression("sqrt(w) * x + max(w, b) - 1")

    assert expression.names == frozenset({"w", "x", "b"})
    assert expression.source == "sqrt(w) * x + max(w, b) - 1"


def test_functions_declare_their_arity():
    assert dict(FUNCTIONS) == {
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


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x.real", "not allowed: attribute access"),
        ("(1).__class__", "not allowed: attribute access"),
        ("x[0]", "not allowed: subscripts"),
        ("lambda: 1", "not allowed: lambda"),
        ("[i for i in x]", "not allowed: comprehensions"),
        ("max(i for i in x)", "not allowed: comprehensions"),
        ("{i: i for i in x}", "not allowed: comprehensions"),
        ("'text'", "not allowed: strings"),
        ("b'bytes'", "not allowed: the constant b'bytes'"),
        ("__import__('os')", "not allowed: the function __import__"),
        ("eval('1')", "not allowed: the function eval"),
        ("open('f')", "not allowed: the function open"),
        ("pow(2, 3)", "not allowed: the function pow"),
        ("round(x, ndigits=1)", "not allowed: keyword arguments"),
        ("max(*[1, 2])", "not allowed: unpacking"),
        ("(lambda: 1)()", "not allowed: lambda"),
        ("(1)(2)", "not allowed: calling something that is not a function name"),
        ("x < 1", "not allowed: comparisons"),
        ("1 == 1", "not allowed: comparisons"),
        ("x and b", "not allowed: boolean operators"),
        ("not x", "not allowed: the operator not"),
        ("1 if x else 2", "not allowed: conditional expressions"),
        ("(y := 2)", "not allowed: assignment expressions"),
        ("f'{x}'", "not allowed: f-strings"),
        ("x // 2", "not allowed: the operator //"),
        ("x ^ 2", "write powers as x ** 2"),
        ("~x", "not allowed: the operator ~"),
        ("x << 1", "not allowed: the operator <<"),
        ("[1, 2]", "not allowed: lists"),
        ("(1, 2)", "not allowed: tuples"),
        ("{1: 2}", "not allowed: dicts"),
        ("True", "not allowed: the constant True"),
        ("None", "not allowed: the constant None"),
        ("1j", "not allowed: the constant 1j"),
        ("...", "not allowed: the constant Ellipsis"),
        ("sqrt", "sqrt is a function: call it as sqrt(...)"),
        ("sqrt(1, 2)", "sqrt takes 1 argument, not 2"),
        ("round(1, 2, 3)", "round takes 1 to 2 arguments, not 3"),
        ("min()", "min takes at least 1 argument, not 0"),
        ("max(1, 2) ** w(1)", "not allowed: the function w"),
        ("1e400", "a number is too large to compute with (column 1)"),
        ("2 * 1" + "0" * 400, "a number is too large to compute with (column 5)"),
        ("", "not a valid expression"),
        ("1 +", "not a valid expression"),
        ("x = 1", "not a valid expression"),
        ("import os", "not a valid expression"),
        ("1\x00", "not a valid expression"),
        ("-" * 200 + "1", "too deeply nested"),
        ("+".join(["1"] * 200), "too deeply nested"),
        ("1" * (MAX_SOURCE_LENGTH + 1), "at most 1000 characters"),
    ],
)
def test_forbidden_constructs_are_refused_with_a_message(source, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_expression(source)


def test_refusals_name_the_column():
    with pytest.raises(ExpressionError, match=r"attribute access \(\.\) \(column 5\)"):
        parse_expression("1 + x.real")


@pytest.mark.parametrize("source", [None, 3, ["w"]])
def test_only_text_is_parsed(source):
    with pytest.raises(ExpressionError, match="an expression must be text"):
        parse_expression(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("9 ** 9 ** 9", "9 ** 387420489 is too large"),
        ("10 ** 1000", "10 ** 1000 is too large"),
        ("1e308 * 10", "1e+308 * 10 is too large"),
        ("exp(1000)", "exp(1000) is too large"),
        ("1 / 0", "division by zero: 1 / 0"),
        ("w / (x - 1.5)", "division by zero: 2 / 0"),
        ("5 % 0", "division by zero: 5 % 0"),
        ("0 ** -1", "0 ** (-1) is undefined"),
        ("(-8) ** (1 / 3)", "(-8) ** 0.3333333333 is undefined"),
        ("sqrt(-1)", "sqrt(-1) is undefined"),
        ("log(0)", "log(0) is undefined"),
        ("log(8, 1)", "division by zero: log(8, 1)"),
        ("round(x, 0.5)", "round: the number of digits must be a whole number"),
        ("round(x, 13)", "round: the number of digits must be a whole number"),
        ("z + 1", "unknown name 'z'"),
    ],
)
def test_evaluation_failures_raise_expression_error(source, message):
    expression = parse_expression(source)

    with pytest.raises(ExpressionError, match=re.escape(message)):
        expression.evaluate({"w": 2, "x": 1.5})


@pytest.mark.parametrize(
    "source", ["9 ** 9 ** 9", "10 ** 1000", "2 ** 2 ** 2 ** 2 ** 2"]
)
def test_huge_powers_fail_quickly(source):
    started = time.perf_counter()
    with pytest.raises(ExpressionError, match="too large"):
        parse_expression(source).evaluate({})
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize("value", [True, "2", None, math.nan, math.inf, 10**400])
def test_parameter_values_must_be_finite_numbers(value):
    with pytest.raises(
        ExpressionError, match="the value of 'w' is not a finite number"
    ):
        parse_expression("w + 1").evaluate({"w": value})


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.675, 2, 2.68),
        (0.125, 2, 0.13),
        (-0.125, 2, -0.13),
        (2.5, 0, 3.0),
        (1.5, 0, 2.0),
        (-0.4, 0, 0.0),
        (1234.5, -2, 1200.0),
        (1e300, 12, 1e300),
        (0.1 + 0.2, 12, 0.3),
    ],
)
def test_round_to_rounds_half_away_from_zero(value, digits, expected):
    rounded = round_to(value, digits)

    assert rounded == expected
    assert math.copysign(1, rounded) == math.copysign(1, expected)  # no -0.0
