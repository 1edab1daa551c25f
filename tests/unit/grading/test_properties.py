"""Properties of grading over generated valid questions of every type."""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizapp.grading import (
    GRADERS,
    correct_response,
    draw_params,
    grade,
    matching_options,
    shuffled,
)

from .questions import make_question, numeric_spec, text_spec

#: No example database: nothing is written outside the test folders.
SETTINGS = settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PARAMS = {
    "w": {"randint": [2, 9]},
    "x": {"choice": [0.5, 1.5, 2.5]},
    "b": {"uniform": [-1, 1], "round": 2},
    "y": {"expr": "w * x", "round": None},
}
EXPRESSIONS = ["w * x + b", "y / w", "sqrt(w) * x", "round(y + b, 1)", "-y"]

seeds = st.text(max_size=12)
points = st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False)
texts = st.text(max_size=12).filter(lambda text: text.strip())
numbers = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False) | st.integers(
    -(10**9), 10**9
)
tolerances = (
    st.none()
    | st.floats(min_value=0, max_value=100, allow_nan=False)
    | st.sampled_from(["1%", "0.5%", "10%", "0%"])
)

Case = tuple[dict[str, Any], dict[str, float]]


@st.composite
def choice_questions(draw: st.DrawFn, type_: str) -> Case:
    count = draw(st.integers(2, 6))
    if type_ == "single":
        right = {draw(st.integers(0, count - 1))}
        fields = {}
    else:
        right = draw(st.sets(st.integers(0, count - 1), min_size=1))
        scoring = ["partial", "all_or_nothing", "right_minus_wrong"]
        fields = {"scoring": draw(st.sampled_from(scoring))}
    choices = [
        {"text": draw(texts), "correct": i in right, "feedback": None}
        for i in range(count)
    ]
    return make_question(type_, points=draw(points), choices=choices, **fields), {}


@st.composite
def numeric_answers(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, float]]:
    """A numeric spec, and the params' values when its answer is an expression."""
    if draw(st.booleans()):
        spec = numeric_spec(draw(st.sampled_from(EXPRESSIONS)), draw(tolerances))
        return spec, draw_params(PARAMS, draw(seeds))
    return numeric_spec(draw(numbers), draw(tolerances)), {}


@st.composite
def text_specs(draw: st.DrawFn) -> dict[str, Any]:
    accept = draw(st.lists(texts, max_size=3))
    regexes = draw(
        st.lists(texts.map(re.escape), min_size=0 if accept else 1, max_size=2)
    )
    return text_spec(accept, regexes, draw(st.booleans()))


@st.composite
def numeric_questions(draw: st.DrawFn) -> Case:
    spec, values = draw(numeric_answers())
    question = make_question("numeric", points=draw(points), **spec)
    question["params"] = PARAMS if values else {}
    return question, values


@st.composite
def text_questions(draw: st.DrawFn) -> Case:
    return make_question("text", points=draw(points), **draw(text_specs())), {}


@st.composite
def blanks_questions(draw: st.DrawFn) -> Case:
    names = draw(st.lists(st.from_regex(r"[a-z]{1,4}", fullmatch=True), min_size=1))
    blanks: dict[str, Any] = {}
    values: dict[str, float] = {}
    for name in dict.fromkeys(names):
        if draw(st.booleans()):
            blanks[name], drawn = draw(numeric_answers())
            values |= drawn
        else:
            blanks[name] = draw(text_specs())
    return make_question("blanks", points=draw(points), blanks=blanks), values


@st.composite
def ordering_questions(draw: st.DrawFn) -> Case:
    items = draw(st.lists(texts, min_size=2, max_size=7))
    scoring = draw(st.sampled_from(["partial", "all_or_nothing"]))
    question = make_question("ordering", points=draw(points), items=items)
    return question | {"scoring": scoring}, {}


@st.composite
def matching_questions(draw: st.DrawFn) -> Case:
    pairs = draw(
        st.lists(st.fixed_dictionaries({"left": texts, "right": texts}), min_size=1)
    )
    distractors = draw(st.lists(texts, max_size=3))
    question = make_question(
        "matching", points=draw(points), pairs=pairs, distractors=distractors
    )
    return question, {}


QUESTIONS = {
    "single": choice_questions("single"),
    "multiple": choice_questions("multiple"),
    "true_false": st.builds(
        lambda answer, points: (
            make_question("true_false", answer=answer, points=points),
            {},
        ),
        st.booleans(),
        points,
    ),
    "numeric": numeric_questions(),
    "text": text_questions(),
    "blanks": blanks_questions(),
    "ordering": ordering_questions(),
    "matching": matching_questions(),
}
questions = st.one_of(*QUESTIONS.values())

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["3.5", " -2e-3 ", "nan", "1e999", "0", "1"]),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text(max_size=4) | st.integers(-2, 8), children, max_size=6
        )
    ),
    max_leaves=20,
)
#: Arbitrary JSON values, and near-miss values that reach deeper into the graders.
responses = (
    json_like
    | st.integers(-2, 8)
    | st.lists(st.integers(-2, 8), max_size=8)
    | st.dictionaries(
        st.sampled_from(["0", "1", "2", 0, 1, "00", "a", "ab"]),
        st.integers(-2, 8) | st.text(max_size=5) | st.floats(),
        max_size=5,
    )
)


def test_the_strategies_cover_every_type():
    assert set(QUESTIONS) == set(GRADERS)


@SETTINGS
@given(case=questions, response=responses)
def test_any_response_is_graded_within_bounds_without_raising(case, response):
    question, values = case

    result = grade(question, response, values)

    assert result.points == question["points"]
    assert 0 <= result.score <= result.points
    assert 0 <= result.parts_right <= result.parts_total
    exact = Fraction(question["points"]) * result.parts_right / result.parts_total
    assert result.score == float(exact)
    assert result.full == (result.parts_right == result.parts_total)


@SETTINGS
@given(case=questions)
def test_the_correct_response_earns_full_marks(case):
    question, values = case
    response = correct_response(question, values)
    if response is None:  # a text answer known only by its regexes
        return

    result = grade(question, response, values)

    assert result.full
    assert result.answered
    assert result.score == question["points"]


@SETTINGS
@given(
    case=st.one_of(QUESTIONS["single"], QUESTIONS["multiple"]),
    seed=seeds,
    data=st.data(),
)
def test_shuffling_the_choices_never_changes_the_score(case, seed, data):
    question, _ = case
    size = len(question["choices"])
    display = shuffled(size, seed)  # display position -> canonical index
    shown = question | {"choices": [question["choices"][i] for i in display]}
    if question["type"] == "single":
        pick = data.draw(st.integers(0, size - 1))
        canonical, on_screen = display[pick], pick
    else:
        picks = data.draw(st.lists(st.integers(0, size - 1), max_size=size))
        canonical, on_screen = [display[p] for p in picks], picks

    assert grade(shown, on_screen).score == grade(question, canonical).score


@SETTINGS
@given(case=QUESTIONS["ordering"], seed=seeds, data=st.data())
def test_shuffling_the_items_never_changes_the_score(case, seed, data):
    question, _ = case
    items = question["items"]
    intended = data.draw(st.permutations(items))  # texts in the candidate's order

    def mapped_back(display: list[int], pick: Callable[[list[int]], int]) -> list[int]:
        """Click, for each intended text, a display position showing it (``pick``
        chooses among identical texts); map the clicks back to canonical indices."""
        free = list(range(len(items)))
        canonical = []
        for text in intended:
            position = pick([p for p in free if items[display[p]] == text])
            free.remove(position)
            canonical.append(display[position])
        return canonical

    one = mapped_back(shuffled(len(items), seed), min)
    other = mapped_back(shuffled(len(items), seed + ":other"), max)

    assert grade(question, one).score == grade(question, other).score


@SETTINGS
@given(case=QUESTIONS["matching"], seed=seeds, data=st.data())
def test_shuffling_the_pairs_and_options_never_changes_the_score(case, seed, data):
    question, _ = case
    options = matching_options(question)
    chosen_texts = [
        data.draw(st.sampled_from(options)) for _ in question["pairs"]
    ]  # what the candidate means for each left, in canonical left order
    canonical = {
        str(left): options.index(text) for left, text in enumerate(chosen_texts)
    }

    lefts = shuffled(len(question["pairs"]), seed)
    shown = question | {"pairs": [question["pairs"][i] for i in lefts]}
    shown_options = matching_options(shown)
    order = shuffled(len(shown_options), seed + ":options")  # display -> option index
    on_screen = {
        display_left: order.index(shown_options.index(chosen_texts[left]))
        for display_left, left in enumerate(lefts)
    }
    mapped_back = {str(left): order[option] for left, option in on_screen.items()}

    assert grade(shown, mapped_back).score == grade(question, canonical).score
