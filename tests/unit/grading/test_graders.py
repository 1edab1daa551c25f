"""The grading rules of the question-bank contract, on hand-computed examples."""

from __future__ import annotations

import pytest

from quizapp.grading import (
    GRADERS,
    Grade,
    correct_response,
    grade,
    matching_options,
)

from .questions import choices, make_question, numeric_spec, text_spec


def score(question, response, values=None) -> float:
    return grade(question, response, values).score


# single --------------------------------------------------------------------------

SINGLE = make_question("single", choices=choices(False, True, False), points=2.0)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (1, 2.0),
        (0, 0.0),
        (2, 0.0),
        (True, 0.0),  # a bool is not an index, even though True == 1
        (1.0, 0.0),
        ("1", 0.0),
        (-2, 0.0),
        (3, 0.0),
        ([1], 0.0),
    ],
)
def test_single_scores_only_the_correct_index(response, expected):
    assert score(SINGLE, response) == expected


# multiple: 4 options, A and B correct, 2 points ------------------------------------


def multiple(scoring: str) -> dict:
    return make_question(
        "multiple",
        choices=choices(True, True, False, False),
        scoring=scoring,
        points=2.0,
    )


@pytest.mark.parametrize(
    ("scoring", "response", "expected"),
    [
        # partial: options whose picked/unpicked state is right / 4
        ("partial", [0, 1], 2.0),
        ("partial", [1, 0, 1, 0], 2.0),  # duplicates ignored
        ("partial", [0], 1.5),  # A ok, B missed, C and D rightly unpicked: 3/4
        ("partial", [0, 2], 1.0),  # A ok, D ok: 2/4
        ("partial", [0, 1, 2, 3], 1.0),  # A, B ok: 2/4
        ("partial", [2, 3], 0.0),
        ("partial", [], 0.0),  # unanswered, although C and D are rightly unpicked
        ("partial", None, 0.0),
        # right_minus_wrong: max(0, right - wrong) / 2 correct options
        ("right_minus_wrong", [0, 1], 2.0),
        ("right_minus_wrong", [0], 1.0),
        ("right_minus_wrong", [0, 1, 2], 1.0),
        ("right_minus_wrong", [0, 2], 0.0),
        ("right_minus_wrong", [0, 2, 3], 0.0),  # never below 0
        ("right_minus_wrong", [0, 1, 2, 3], 0.0),
        ("right_minus_wrong", [], 0.0),
        # all_or_nothing: exactly the correct set
        ("all_or_nothing", [1, 0], 2.0),
        ("all_or_nothing", [0], 0.0),
        ("all_or_nothing", [0, 1, 2], 0.0),
        ("all_or_nothing", [], 0.0),
    ],
)
def test_multiple_scoring_modes(scoring, response, expected):
    assert score(multiple(scoring), response) == expected


@pytest.mark.parametrize("scoring", ["partial", "right_minus_wrong", "all_or_nothing"])
@pytest.mark.parametrize(
    "response", [[0, 4], [0, -1], [0, True], [0, 1.0], [0, "1"], "0,1", 0, {"0": 1}]
)
def test_multiple_with_any_invalid_element_scores_zero(scoring, response):
    assert score(multiple(scoring), response) == 0.0


def test_multiple_reports_its_parts():
    assert grade(multiple("partial"), [0]) == Grade(
        score=1.5, points=2.0, answered=True, parts_right=3, parts_total=4
    )
    assert grade(multiple("right_minus_wrong"), [0, 1, 2]) == Grade(
        score=1.0, points=2.0, answered=True, parts_right=1, parts_total=2
    )


# true_false ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "response", "expected"),
    [
        (True, True, 1.0),
        (True, False, 0.0),
        (False, False, 1.0),
        (True, 1, 0.0),
        (False, 0, 0.0),
        (True, "true", 0.0),
        (False, None, 0.0),
    ],
)
def test_true_false_takes_only_booleans(answer, response, expected):
    assert score(make_question("true_false", answer=answer), response) == expected


# numeric ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "tolerance", "response", "right"),
    [
        # absolute tolerance, boundary inclusive despite binary floats
        (0.3, 0.1, 0.4, True),
        (0.3, 0.1, 0.2, True),
        (0.3, 0.1, "0.4", True),
        (0.3, 0.1, 0.41, False),
        (0.3, 0.1, 0.19, False),
        (1e6, 1, 1000001, True),
        (1e6, 1, 1000001.01, False),
        (5, 0, 5, True),
        (5, 0, 5.001, False),
        # relative tolerance: abs(answer) * p / 100
        (200, "1%", 202, True),
        (200, "1%", 198, True),
        (200, "1%", 197.9, False),
        (-200, "1%", -202, True),
        (1000, "0.5%", 1005, True),
        (1000, "0.5%", 1005.1, False),
        (0, "1%", 0, True),
        (0, "1%", 1e-6, False),
        # no tolerance: exact up to float noise
        (0.3, None, 0.1 + 0.2, True),
        (0.3, None, 0.3001, False),
        (7, None, "7", True),
        (7, None, "7.0000001", False),
        (0, None, 1e-13, True),
    ],
)
def test_numeric_tolerance(answer, tolerance, response, right):
    question = make_question("numeric", **numeric_spec(answer, tolerance))
    assert grade(question, response).full is right


@pytest.mark.parametrize(
    ("response", "right"),
    [
        ("3.5", True),
        (" 3.5 ", True),
        ("+3.5", True),
        ("3.50", True),
        ("35e-1", True),
        ("3.5E0", True),
        (3.5, True),
        ("3,5", False),
        ("3.5.0", False),
        ("3.5abc", False),
        ("1_000", False),
        ("nan", False),
        ("inf", False),
        ("-Infinity", False),
        ("\u0663", False),  # ARABIC-INDIC DIGIT THREE: float() would take it
        ("1e999", False),
        (float("nan"), False),
        (float("inf"), False),
        (10**400, False),
        (True, False),
        ([3.5], False),
        ("3" * 2000, False),
    ],
)
def test_numeric_response_parsing(response, right):
    question = make_question("numeric", **numeric_spec(3.5, 0.01))
    assert grade(question, response).full is right


def test_numeric_parses_signs_and_exponents():
    question = make_question("numeric", **numeric_spec(-0.002))
    assert grade(question, " -2e-3 ").full
    assert grade(make_question("numeric", **numeric_spec(4)), "+4").full
    assert grade(make_question("numeric", **numeric_spec(0.5)), ".5").full
    assert grade(make_question("numeric", **numeric_spec(5)), "5.").full


def test_numeric_answer_may_be_an_expression_over_the_params():
    question = make_question("numeric", **numeric_spec("w * x + b", 0.01))
    values = {"w": 2, "x": 1.5, "b": 0.25}  # answer 3.25

    assert score(question, 3.26, values) == 1.0
    assert score(question, 3.27, values) == 0.0


# text ------------------------------------------------------------------------------

TEXT = make_question(
    "text", **text_spec(["Gradient descent", "café"], ["back-?prop(agation)?"])
)


@pytest.mark.parametrize(
    ("response", "right"),
    [
        ("Gradient descent", True),
        ("gradient   descent", True),  # inner whitespace collapsed
        ("  GRADIENT\tdescent\n", True),  # trimmed, case-insensitive
        ("gradient descent.", False),
        ("gradientdescent", False),
        ("cafe\u0301", True),  # e + combining acute, NFC-normalised to é
        ("CAFÉ", True),
        ("backprop", True),
        ("Back-Propagation", True),
        ("backprop is cool", False),  # the pattern must match the whole response
        ("use backprop", False),
        (7, False),
        ("a" * 1001, False),
    ],
)
def test_text_accept_and_regex(response, right):
    assert grade(TEXT, response).full is right


def test_text_case_sensitive_applies_to_accept_and_regex():
    question = make_question("text", **text_spec(["NaCl"], ["[A-Z]\\d"], True))

    assert grade(question, " NaCl ").full
    assert not grade(question, "nacl").full
    assert grade(question, "H2").full
    assert not grade(question, "h2").full


def test_text_casefolds_rather_than_lowercases():
    question = make_question("text", **text_spec(["STRASSE"]))
    assert grade(question, "Straße").full


def test_text_longer_than_1000_characters_is_wrong_even_for_a_catch_all():
    question = make_question("text", **text_spec([], [".*"]))

    assert grade(question, "a" * 1000).full
    assert not grade(question, "a" * 1001).full


# blanks ----------------------------------------------------------------------------

BLANKS = make_question(
    "blanks",
    points=3.0,
    blanks={
        "algorithm": text_spec(["k-means"]),
        "k": numeric_spec(3),
        "accuracy": numeric_spec("w * 2", "10%"),  # 4 ± 0.4 with w = 2
    },
)


@pytest.mark.parametrize(
    ("response", "expected", "right"),
    [
        ({"algorithm": "K-Means", "k": "3", "accuracy": 4.3}, 3.0, 3),
        ({"algorithm": "kmeans", "k": 3.0, "accuracy": "4"}, 2.0, 2),
        ({"algorithm": "k-means", "k": "three"}, 1.0, 1),
        ({"k": 3}, 1.0, 1),
        ({"algorithm": 3, "k": "3", "unknown": "x"}, 1.0, 1),  # text blank: text only
        ({"accuracy": 4.5}, 0.0, 0),
        (["k-means", 3, 4], 0.0, 0),
    ],
)
def test_blanks_score_right_blanks_over_blanks(response, expected, right):
    result = grade(BLANKS, response, {"w": 2})

    assert result.score == expected
    assert (result.parts_right, result.parts_total) == (right, 3)


# ordering: items a b c d -----------------------------------------------------------


def ordering(scoring: str, items=("a", "b", "c", "d")) -> dict:
    return make_question("ordering", items=list(items), scoring=scoring)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ([0, 1, 2, 3], 1.0),
        ([0, 2, 1, 3], 0.75),  # longest in-order subsequence 0 1 3 (or 0 2 3)
        ([1, 0, 3, 2], 0.5),
        ([3, 0, 1, 2], 0.75),
        ([3, 2, 1, 0], 0.25),
        ([0, 1, 2], 0.0),  # not a permutation of range(4)
        ([0, 1, 2, 2], 0.0),
        ([0, 1, 2, 4], 0.0),
        ([0, 1, 2, 3.0], 0.0),
        ([True, 0, 2, 3], 0.0),
        ("0123", 0.0),
    ],
)
def test_ordering_partial_uses_longest_in_order_subsequence(response, expected):
    assert score(ordering("partial"), response) == expected


def test_ordering_all_or_nothing():
    assert score(ordering("all_or_nothing"), [0, 1, 2, 3]) == 1.0
    assert score(ordering("all_or_nothing"), [0, 2, 1, 3]) == 0.0


def test_ordering_items_with_the_same_text_are_interchangeable():
    question = ordering("all_or_nothing", items=["1", "3", "3", "7"])

    assert grade(question, [0, 2, 1, 3]).full


# matching --------------------------------------------------------------------------

MATCHING = make_question(
    "matching",
    points=3.0,
    pairs=[
        {"left": "Linear regression", "right": "continuous target"},
        {"left": "Logistic regression", "right": "class probability"},
        {"left": "k-means", "right": "clusters"},
    ],
    distractors=["reward signal"],
)


def test_matching_options_are_the_rights_then_the_distractors():
    assert matching_options(MATCHING) == [
        "continuous target",
        "class probability",
        "clusters",
        "reward signal",
    ]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"0": 0, "1": 1, "2": 2}, 3.0),
        ({0: 0, 1: 1, 2: 2}, 3.0),
        ({"0": 0, "1": 3, "2": 2}, 2.0),  # the distractor is wrong
        ({"0": 1, "1": 0, "2": 2}, 1.0),
        ({"0": 0, "1": 1}, 2.0),
        ({"0": 0, 0: 0, "1": 1}, 1.0),  # left 0 given twice is wrong
        ({"0": 0, "00": 1, "+1": 1, " 1": 1, "3": 2, "x": 0}, 1.0),
        ({"0": 9, "1": -1, "2": True}, 0.0),
        ({"0": "0", "1": 1.0}, 0.0),
        ([0, 1, 2], 0.0),
    ],
)
def test_matching_scores_right_matches_over_pairs(response, expected):
    assert score(MATCHING, response) == expected


def test_matching_options_with_the_same_text_are_interchangeable():
    question = make_question(
        "matching",
        pairs=[
            {"left": "ReLU", "right": "[0, ∞)"},
            {"left": "Softplus", "right": "[0, ∞)"},
        ],
        distractors=["[0, ∞)", "(-1, 1)"],
    )

    assert matching_options(question) == ["[0, ∞)", "(-1, 1)"]
    assert grade(question, {"0": 0, "1": 0}).full


# every type ------------------------------------------------------------------------

EVERY_TYPE = [
    SINGLE,
    multiple("partial"),
    make_question("true_false", answer=False),
    make_question("numeric", **numeric_spec(0, 1)),
    TEXT,
    BLANKS,
    ordering("partial"),
    MATCHING,
]


def test_every_type_has_a_grader():
    assert {question["type"] for question in EVERY_TYPE} == set(GRADERS)


@pytest.mark.parametrize("question", EVERY_TYPE, ids=lambda q: q["type"])
@pytest.mark.parametrize(
    "response", [None, "", "  \n", [], {}, {"k": None, "algorithm": " "}]
)
def test_unanswered_scores_zero_under_every_type(question, response):
    result = grade(question, response, {"w": 2})

    assert result.score == 0.0
    assert not result.answered
    assert result.parts_right == 0


@pytest.mark.parametrize("question", EVERY_TYPE, ids=lambda q: q["type"])
def test_the_correct_response_earns_full_marks(question):
    result = grade(question, correct_response(question, {"w": 2}), {"w": 2})

    assert result.full
    assert result.answered
    assert result.parts_right == result.parts_total


def test_correct_responses_in_the_response_format():
    assert correct_response(SINGLE) == 1
    assert correct_response(multiple("partial")) == [0, 1]
    assert correct_response(TEXT) == "Gradient descent"
    assert correct_response(BLANKS, {"w": 2}) == {
        "algorithm": "k-means",
        "k": 3.0,
        "accuracy": 4.0,
    }
    assert correct_response(MATCHING) == {"0": 0, "1": 1, "2": 2}


def test_no_correct_response_is_built_from_regexes_only():
    assert correct_response(make_question("text", **text_spec([], ["a+"]))) is None
    question = make_question("blanks", blanks={"x": text_spec([], ["a+"])})
    assert correct_response(question) is None


@pytest.mark.parametrize("points", [0.1, 0.3, 0.7, 1 / 3, 2.5, 100.0])
def test_full_marks_are_exactly_the_points(points):
    question = make_question(
        "multiple",
        choices=choices(True, False, False, True, False, False, False),
        scoring="partial",
        points=points,
    )

    assert grade(question, [0, 3]).score == points
    assert 0 < grade(question, [0]).score < points
