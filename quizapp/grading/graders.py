"""Grading: one pure function per question type, behind :func:`grade`.

A grader returns ``(parts right, parts total)`` and the score is
``points * right / total``, computed with :class:`fractions.Fraction` so it is
exact, and always between 0 and the question's points.

Questions are trusted (they passed the checker); responses are not: a response of
the wrong shape or type, with an index out of range, and so on, scores 0 for that
part and never raises. An unanswered response (None; an empty or blank string; an
empty list or dict; a dict whose values are all None or blank) scores 0 under every
type and scoring, including ``multiple`` with ``partial`` scoring, where picking
nothing would otherwise earn the options that are rightly left unpicked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .expressions import parse_expression

#: Longer text responses are wrong without being compared (protects the regexes).
MAX_RESPONSE_LENGTH = 1000

#: A decimal number as a candidate types it: optional sign, digits with an optional
#: point, optional exponent; no thousands separators, no "nan" or "inf".
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHITESPACE = re.compile(r"\s+")
_LEFT_KEY = re.compile(r"0|[1-9][0-9]{0,8}")

Question = Mapping[str, Any]
Values = Mapping[str, float]
Parts = tuple[int, int]
Grader = Callable[[Question, object, Values], Parts]


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one response.

    ``score == points * parts_right / parts_total``; what a part is depends on the
    type (a choice decision, a blank, a pair...; a question without partial credit
    has one part).
    """

    score: float
    points: float
    answered: bool
    parts_right: int
    parts_total: int

    @property
    def full(self) -> bool:
        return self.score == self.points


def resolve_number(value: float | str, values: Mapping) -> float:
    """A number as a float, or the value of an expression over the parameters.

    :raise ExpressionError: the expression fails for these values.
    """
    if isinstance(value, str):
        return parse_expression(value).evaluate(values)
    return float(value)


def _is_index(value: object, size: int) -> bool:
    return type(value) is int and 0 <= value < size


def _is_empty(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | dict) and not value)


def _is_unanswered(response: object) -> bool:
    if isinstance(response, dict):
        return all(map(_is_empty, response.values()))
    return _is_empty(response)


def _parse_number(response: object) -> float | None:
    """The finite number in a response (int, float or decimal text), or None."""
    if isinstance(response, str):
        text = response.strip()
        if len(text) > MAX_RESPONSE_LENGTH or not _NUMBER.fullmatch(text):
            return None
        number = float(text)
    elif type(response) is int:
        try:
            number = float(response)
        except OverflowError:
            return None
    elif type(response) is float:
        number = response
    else:
        return None
    return number if math.isfinite(number) else None


def _numeric_right(spec: Mapping[str, Any], response: object, values: Values) -> bool:
    """abs(given - answer) <= tolerance, inclusive.

    The tolerance is absolute (a number) or relative (``"p%"``: abs(answer) * p /
    100), widened by 1e-9 * max(1, abs(answer)) so a boundary the instructor wrote
    is right despite binary floats (answer 0.3, tolerance 0.1: 0.4 is right).
    Without a tolerance the answer must be exact, within float noise:
    ``math.isclose(given, answer, rel_tol=1e-9, abs_tol=1e-12)``.
    """
    given = _parse_number(response)
    if given is None:
        return False
    answer = resolve_number(spec["answer"], values)
    tolerance = spec["tolerance"]
    if tolerance is None:
        return math.isclose(given, answer, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(tolerance, str):
        allowed = abs(answer) * float(tolerance.strip().removesuffix("%")) / 100
    else:
        allowed = float(tolerance)
    return abs(given - answer) <= allowed + 1e-9 * max(1.0, abs(answer))


def _text_key(text: str, case_sensitive: bool) -> str:
    """NFC-normalised, trimmed, each run of whitespace made one space; casefolded
    unless case-sensitive."""
    tidy = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text).strip())
    return tidy if case_sensitive else tidy.casefold()


def _text_right(spec: Mapping[str, Any], response: object) -> bool:
    """The response equals an ``accept`` entry, both normalised by
    :func:`_text_key`, or fully matches an ``accept_regex`` pattern after the same
    normalisation without casefolding (with re.IGNORECASE unless
    ``case_sensitive``). Responses over MAX_RESPONSE_LENGTH characters are wrong."""
    if not isinstance(response, str) or len(response) > MAX_RESPONSE_LENGTH:
        return False
    case_sensitive = spec["case_sensitive"]
    if _text_key(response, case_sensitive) in {
        _text_key(entry, case_sensitive) for entry in spec["accept"]
    }:
        return True
    given = _text_key(response, case_sensitive=True)
    flags = re.NOFLAG if case_sensitive else re.IGNORECASE
    return any(re.fullmatch(pattern, given, flags) for pattern in spec["accept_regex"])


def grade_single(question: Question, response: object, values: Values) -> Parts:
    """Right iff the response is the index of the correct choice."""
    choices = question["choices"]
    return int(_is_index(response, len(choices)) and choices[response]["correct"]), 1


def _picked(response: object, size: int) -> set[int] | None:
    if isinstance(response, list) and all(_is_index(i, size) for i in response):
        return set(response)
    return None


def grade_multiple(question: Question, response: object, values: Values) -> Parts:
    """The response is a list of choice indices, duplicates ignored; a list with any
    element that is not a valid index scores 0.

    - ``partial``: options whose picked/unpicked state is right / options;
    - ``right_minus_wrong``: max(0, right picks - wrong picks) / correct options;
    - ``all_or_nothing``: right iff the picked set is the correct set.
    """
    choices = question["choices"]
    correct = {i for i, choice in enumerate(choices) if choice["correct"]}
    picked = _picked(response, len(choices))
    scoring = question["scoring"]
    if scoring == "partial":
        options = range(len(choices))
        right = (
            0
            if picked is None
            else sum((i in picked) == (i in correct) for i in options)
        )
        return right, len(options)
    if scoring == "right_minus_wrong":
        if picked is None:
            return 0, len(correct)
        return max(0, len(picked & correct) - len(picked - correct)), len(correct)
    return int(picked == correct), 1


def grade_true_false(question: Question, response: object, values: Values) -> Parts:
    """Right iff the response is the boolean answer (not 0/1, not "true")."""
    return int(type(response) is bool and response == question["answer"]), 1


def grade_numeric(question: Question, response: object, values: Values) -> Parts:
    """The response is an int, float or decimal text (surrounding spaces allowed);
    it is right within the tolerance (see the module's rule for numbers)."""
    return int(_numeric_right(question, response, values)), 1


def grade_text(question: Question, response: object, values: Values) -> Parts:
    """Right iff the text matches (see the module's rule for text)."""
    return int(_text_right(question, response)), 1


def grade_blanks(question: Question, response: object, values: Values) -> Parts:
    """Right blanks / blanks. The response maps blank names to answers; a numeric
    blank (its spec has ``answer``) takes a number or decimal text, a text blank
    takes text only. Missing blanks and unknown names are ignored."""
    given = response if isinstance(response, dict) else {}
    blanks = question["blanks"]
    right = sum(
        _numeric_right(spec, given.get(name), values)
        if "answer" in spec
        else _text_right(spec, given.get(name))
        for name, spec in blanks.items()
    )
    return right, len(blanks)


def _longest_common_subsequence(first: list[str], second: list[str]) -> int:
    lengths = [0] * (len(second) + 1)
    for a in first:
        previous_diagonal = 0
        for j, b in enumerate(second, start=1):
            above = lengths[j]
            lengths[j] = (
                previous_diagonal + 1 if a == b else max(lengths[j], lengths[j - 1])
            )
            previous_diagonal = above
    return lengths[-1]


def grade_ordering(question: Question, response: object, values: Values) -> Parts:
    """The response lists the item indices in the candidate's order; anything that
    is not a permutation of range(items) scores 0. Items are compared by text, so
    items with the same text are interchangeable.

    - ``all_or_nothing``: right iff the order is the correct one;
    - ``partial``: the length of the longest subsequence of the response that is in
      the correct relative order / items (e.g. [0, 2, 1, 3] of 4 items: 3/4).
    """
    items = question["items"]
    is_permutation = (
        isinstance(response, list)
        and len(response) == len(items)
        and all(type(i) is int for i in response)
        and sorted(response) == list(range(len(items)))
    )
    arranged = [items[i] for i in response] if is_permutation else None
    if question["scoring"] == "partial":
        if arranged is None:
            return 0, len(items)
        return _longest_common_subsequence(arranged, items), len(items)
    return int(arranged == items), 1


def matching_options(question: Question) -> list[str]:
    """The right-hand options a matching question shows, by canonical index: the
    rights in pair order then the distractors, each text once."""
    rights = [pair["right"] for pair in question["pairs"]]
    return list(dict.fromkeys([*rights, *question["distractors"]]))


def _left_index(key: object, size: int) -> int | None:
    if type(key) is int:
        index = key
    elif isinstance(key, str) and _LEFT_KEY.fullmatch(key):
        index = int(key)
    else:
        return None
    return index if 0 <= index < size else None


def grade_matching(question: Question, response: object, values: Values) -> Parts:
    """Right matches / pairs. The response maps a left index (int, or its decimal
    text such as "0") to an index into :func:`matching_options`; a left is right
    when its option's text equals its right, so options with the same text are
    interchangeable. Unknown lefts are ignored; a left given twice (0 and "0") is
    wrong."""
    pairs = question["pairs"]
    options = matching_options(question)
    chosen: dict[int, object] = {}
    given_twice: set[int] = set()
    for key, value in response.items() if isinstance(response, dict) else ():
        left = _left_index(key, len(pairs))
        if left is None:
            continue
        if left in chosen:
            given_twice.add(left)
        chosen[left] = value
    right = sum(
        left not in given_twice
        and _is_index(option, len(options))
        and options[option] == pairs[left]["right"]
        for left, option in chosen.items()
    )
    return right, len(pairs)


GRADERS: dict[str, Grader] = {
    "single": grade_single,
    "multiple": grade_multiple,
    "true_false": grade_true_false,
    "numeric": grade_numeric,
    "text": grade_text,
    "blanks": grade_blanks,
    "ordering": grade_ordering,
    "matching": grade_matching,
}


def grade(question: Question, response: object, values: Mapping | None = None) -> Grade:
    """Grade ``response`` to ``question`` (canonical form) with the variant's
    parameter ``values``; a pure function of its arguments.

    Never raises because of the response; an unanswered response scores 0.

    :raise ExpressionError: the question's own answer expression fails for these
        values (a question error, not the candidate's).
    """
    answered = not _is_unanswered(response)
    grader = GRADERS[question["type"]]
    right, total = grader(question, response if answered else None, values or {})
    points = Fraction(question["points"])
    return Grade(
        score=float(points * right / total),
        points=float(points),
        answered=answered,
        parts_right=right,
        parts_total=total,
    )


def correct_response(question: Question, values: Mapping | None = None) -> object:
    """A response, in the format :func:`grade` takes, that earns full marks; None
    for a text question, or blanks with a text blank, that has only regexes.

    :raise ExpressionError: an answer expression fails for these values.
    """
    values = values or {}
    match question["type"]:
        case "single":
            return next(i for i, c in enumerate(question["choices"]) if c["correct"])
        case "multiple":
            return [i for i, c in enumerate(question["choices"]) if c["correct"]]
        case "true_false":
            return question["answer"]
        case "numeric":
            return resolve_number(question["answer"], values)
        case "text":
            return next(iter(question["accept"]), None)
        case "blanks":
            answers = {
                name: resolve_number(spec["answer"], values)
                if "answer" in spec
                else next(iter(spec["accept"]), None)
                for name, spec in question["blanks"].items()
            }
            return None if None in answers.values() else answers
        case "ordering":
            return list(range(len(question["items"])))
        case "matching":
            options = matching_options(question)
            return {
                str(left): options.index(pair["right"])
                for left, pair in enumerate(question["pairs"])
            }
    raise ValueError(f"unknown question type {question['type']!r}")
