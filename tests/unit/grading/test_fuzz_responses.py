"""Every grader under arbitrary responses: JSON values and worse (NaN, infinities,
-0.0, 1e308, huge numbers and texts, lone surrogates, nesting, Python values no JSON
holds). Each returns parts within bounds, a response of a shape its type never takes
scores 0, and nothing raises."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizapp.grading import GRADERS, grade

from .test_properties import QUESTIONS, SETTINGS

#: Text as it arrives from a JSON body: any code point, surrogates included.
any_text = st.text(st.characters(codec=None), max_size=30) | st.sampled_from(
    [
        "",
        "   ",
        "\x00",
        "\ud800",
        "e\u0301",  # e and a combining accent: NFC makes it one character
        "\uff32\uff45\uff2c\uff35",  # RELU in full-width letters
        "٣",  # an Arabic-Indic digit
        "1e999",
        "nan",
        "-inf",
        "0x10",
        "1_000",
        " 3.5 ",
        "x" * 1001,
        "7" * 100_000,
    ]
)
numbers = (
    st.integers()
    | st.integers(-2, 8)
    | st.sampled_from([10**400, -(10**400), 2**53 + 1])
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324])
)
scalars = st.none() | st.booleans() | numbers | any_text
#: Values no JSON parser makes, which a caller might still pass.
strangers = st.sampled_from(
    [
        b"0",
        (0, 1),
        {0, 1},
        frozenset(),
        1j,
        Decimal("NaN"),
        Decimal("1"),
        Fraction(1, 3),
        object(),
        range(3),
        Ellipsis,
    ]
)
#: The values most likely to trip a grader, drawn as often as everything else.
extremes = st.sampled_from(
    [math.nan, math.inf, -math.inf, -0.0, 1e308, 10**400, "7" * 100_000, "\ud800"]
)
responses = extremes | st.recursive(
    scalars | strangers,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            any_text | st.integers(-2, 8) | st.none(), children, max_size=6
        )
    ),
    max_leaves=25,
)


def never_right(kind: str, response: object) -> bool:
    """The response has a shape the type's docstring says always scores 0."""
    expected = {
        "single": int,
        "multiple": list,
        "true_false": bool,
        "numeric": (int, float, str),
        "text": str,
        "blanks": dict,
        "ordering": list,
        "matching": dict,
    }[kind]
    if kind in ("single", "true_false"):  # exactly that type: no bools for indices
        return type(response) is not expected
    return not isinstance(response, expected) or (
        kind == "numeric" and isinstance(response, bool)
    )


@pytest.mark.parametrize("kind", sorted(GRADERS))
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_every_grader_takes_any_response_without_raising(kind, data):
    question, values = data.draw(QUESTIONS[kind], label="question")
    response = data.draw(responses, label="response")

    right, total = GRADERS[kind](question, response, values)
    result = grade(question, response, values)

    assert type(right) is int
    assert type(total) is int
    assert 0 <= right <= total
    assert total >= 1
    assert math.isfinite(result.score)
    assert 0 <= result.score <= result.points == question["points"]
    if never_right(kind, response):
        assert right == 0
        assert result.score == 0
