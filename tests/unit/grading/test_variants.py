"""Variants: parameter checks, seeded draws, placeholders and display order."""

from __future__ import annotations

import hashlib
import random

import pytest

from quizapp.grading import (
    PLACEHOLDER,
    ExpressionError,
    check_params,
    draw_params,
    shuffled,
    substitute,
)

NEURON = {
    "w": {"randint": [2, 9]},
    "x": {"choice": [0.5, 1.5, 2.5]},
    "b": {"uniform": [-1, 1], "round": 2},
    "u": {"uniform": [0, 1]},
    "y": {"expr": "w * x + b", "round": 1},
}
SEEDS = [f"attempt-{n}:neuron-output" for n in range(300)]


def test_a_fixed_seed_draws_fixed_values():
    # Pinned: a change here means every stored attempt would see other numbers.
    assert draw_params(NEURON, "attempt-42:neuron-output") == {
        "w": 2,
        "x": 2.5,
        "b": 0.19,
        "u": 0.3978355808719295,
        "y": 5.2,
    }


def test_draws_use_only_random_of_a_sha256_seeded_generator():
    seed = "attempt-42:neuron-output"
    digest = hashlib.sha256(seed.encode()).digest()
    generator = random.Random(int.from_bytes(digest, "big"))
    first, second, third, fourth = (generator.random() for _ in range(4))

    values = draw_params(NEURON, seed)

    assert values["w"] == 2 + int(first * 8)
    assert values["x"] == [0.5, 1.5, 2.5][int(second * 3)]
    assert values["b"] == pytest.approx(-1 + 2 * third, abs=0.005)
    assert values["u"] == fourth


def test_the_same_seed_draws_the_same_values():
    assert draw_params(NEURON, "s") == draw_params(NEURON, "s")
    assert len({tuple(draw_params(NEURON, seed).values()) for seed in SEEDS}) > 100


def test_draws_stay_within_their_ranges():
    for seed in SEEDS:
        values = draw_params(NEURON, seed)
        assert type(values["w"]) is int
        assert 2 <= values["w"] <= 9
        assert values["x"] in (0.5, 1.5, 2.5)
        assert -1 <= values["b"] <= 1
        assert 0 <= values["u"] < 1


def test_every_integer_of_a_randint_range_is_drawn():
    drawn = {draw_params({"n": {"randint": [-2, 2]}}, seed)["n"] for seed in SEEDS}
    assert drawn == {-2, -1, 0, 1, 2}


def test_round_is_applied_to_uniform_and_expr():
    for seed in SEEDS:
        values = draw_params(NEURON, seed)
        assert values["b"] == round(values["b"], 2)
        assert values["y"] == round(values["y"], 1)


def test_round_zero_gives_integral_floats():
    values = draw_params({"n": {"uniform": [0, 100], "round": 0}}, "s")
    assert values["n"].is_integer()


def test_expr_params_derive_from_the_params_above():
    for seed in SEEDS[:50]:
        values = draw_params(NEURON, seed)
        assert values["y"] == pytest.approx(
            values["w"] * values["x"] + values["b"], abs=0.05 + 1e-9
        )


def test_an_expr_failing_for_the_drawn_values_raises():
    params = {"n": {"choice": [2]}, "r": {"expr": "1 / (n - 2)"}}

    with pytest.raises(ExpressionError, match="division by zero"):
        draw_params(params, "s")


def test_no_params_draw_nothing():
    assert draw_params({}, "s") == {}


def test_valid_params_have_no_problems():
    assert check_params(NEURON) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": {"dice": [1, 6]}}, "unknown kind 'dice'; use one of randint, choice"),
        ({"n": {}}, "unknown kind nothing"),
        ({"n": {"randint": [1, 2], "choice": [1]}}, "has randint and choice"),
        ({"n": 3}, "must be a mapping"),
        ({"n": {"randint": [1, 2], "round": 1}}, "unknown key 'round' for randint"),
        ({"n": {"uniform": [0, 1], "step": 1}}, "unknown key 'step' for uniform"),
        ({"n": {"randint": [9, 2]}}, "randint: low 9 is greater than high 2"),
        ({"n": {"uniform": [1, 0.5]}}, "uniform: low 1 is greater than high 0.5"),
        ({"n": {"randint": [1.5, 3]}}, "randint needs a list of two integers"),
        ({"n": {"randint": [True, 3]}}, "randint needs a list of two integers"),
        ({"n": {"randint": [1, 2, 3]}}, "randint needs a list of two integers"),
        ({"n": {"randint": "1-6"}}, "randint needs a list of two integers"),
        ({"n": {"uniform": ["0", 1]}}, "uniform needs a list of two numbers"),
        ({"n": {"uniform": [0, float("inf")]}}, "uniform needs a list of two numbers"),
        ({"n": {"uniform": [-1e308, 1e308]}}, "uniform: the range from"),
        ({"n": {"randint": [0, 2**60]}}, "randint: the range from"),
        ({"n": {"choice": []}}, "choice needs a non-empty list of numbers"),
        ({"n": {"choice": [1, "two"]}}, "choice needs a non-empty list of numbers"),
        ({"n": {"choice": 3}}, "choice needs a non-empty list of numbers"),
        ({"n": {"uniform": [0, 1], "round": 13}}, "round must be a whole number"),
        ({"n": {"uniform": [0, 1], "round": -1}}, "round must be a whole number"),
        ({"n": {"uniform": [0, 1], "round": 1.0}}, "round must be a whole number"),
        ({"n": {"expr": "1", "round": "2"}}, "round must be a whole number"),
        ({"n": {"expr": "2 +"}}, "expr: not a valid expression"),
        ({"n": {"expr": "n.real"}}, "expr: not allowed: attribute access"),
        ({"n": {"expr": 3}}, "expr: an expression must be text"),
        ({"n": {"expr": "m + 1"}}, "expr uses 'm', which is not a parameter declared"),
        ({"n": {"expr": "n + 1"}}, "expr uses 'n', which is not a parameter declared"),
        ({"sqrt": {"randint": [1, 2]}}, "sqrt is a function name"),
        ({"2n": {"randint": [1, 2]}}, "a parameter name is made of ASCII letters"),
        ({"lambda": {"randint": [1, 2]}}, "a parameter name is made of ASCII letters"),
        ({"n-1": {"randint": [1, 2]}}, "a parameter name is made of ASCII letters"),
    ],
)
def test_check_params_reports_each_problem(params, message):
    problems = check_params(params)

    assert len(problems) == 1
    name, text = problems[0]
    assert name == next(iter(params))
    assert message in text


def test_expr_may_only_use_params_declared_above_it():
    params = {
        "y": {"expr": "w * 2"},
        "w": {"randint": [1, 3]},
        "z": {"expr": "w * y + sqrt(w)"},
    }

    assert check_params(params) == [
        ("y", "expr uses 'w', which is not a parameter declared above it")
    ]


def test_check_params_reports_every_problem_of_every_param():
    problems = check_params(
        {
            "max": {"uniform": [2, 1], "round": 20},
            "ok": {"randint": [1, 2]},
            "bad": {"choice": []},
        }
    )

    assert [name for name, _ in problems] == ["max", "max", "max", "bad"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("w={{w}}", "w=7"),
        ("w={{ w }}, x={{x}}", "w=7, x=2"),  # an integral float shows as a whole number
        ("{{b}} and {{ third }}", "-0.25 and 0.3333333333"),  # 10 significant digits
        ("{{ unknown }} and {{w}}", "{{ unknown }} and 7"),
        ("{w} {{ w} {{w w}}", "{w} {{ w} {{w w}}"),
        ("{{big}}", "100000000000"),
    ],
)
def test_substitute(text, expected):
    values = {"w": 7, "x": 2.0, "b": -0.25, "third": 1 / 3, "big": 1e11}
    assert substitute(text, values) == expected


def test_placeholder_lists_the_names_used():
    prompt = "A neuron with weight {{w}}, bias {{ b }} and input {{x }}: {{w}}?"
    assert [match.group(1) for match in PLACEHOLDER.finditer(prompt)] == [
        "w",
        "b",
        "x",
        "w",
    ]


def test_shuffled_is_a_fixed_permutation_per_seed():
    assert shuffled(8, "attempt-42:neuron-output:choices") == [7, 2, 3, 0, 6, 5, 4, 1]
    assert shuffled(8, "x") == shuffled(8, "x")
    assert shuffled(0, "x") == []
    assert shuffled(1, "x") == [0]


def test_shuffled_reaches_every_order():
    orders = {tuple(shuffled(3, seed)) for seed in SEEDS}

    assert len(orders) == 6
    assert all(sorted(order) == [0, 1, 2] for order in orders)
