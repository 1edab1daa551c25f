"""Answers as they arrive (a plain form or JSON) -> the grading engine's format.

The grader accepts anything without raising, but what is stored must be small and
well-formed, so a save is checked here first: indices in range, lengths bounded,
no unknown blanks. An empty answer is stored as None (unanswered).

Formats (canonical indices, i.e. the order in the bank file, never the shuffled
order on the page):

=============  ==========================================  ===========================
type           JSON ``response``                           plain form fields
=============  ==========================================  ===========================
single         ``2``                                       ``response=2``
multiple       ``[0, 3]``                                  ``response=0&response=3``
true_false     ``true``                                    ``response=true``
numeric, text  ``"3.14"``                                  ``response=3.14``
blanks         ``{"rate": "0.1", "name": "ReLU"}``         ``blank-rate=0.1``
ordering       ``[2, 0, 1]`` (items in the chosen order)   ``rank-2=1&rank-0=2...``
matching       ``{"0": 1, "1": 0}`` (left -> option)       ``match-0=1&match-1=0``
=============  ==========================================  ===========================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from quizapp import grading
from quizapp.core.errors import DomainError

#: Longest text a candidate may type into one answer or blank.
MAX_TEXT = 1000
#: A matching question's left, as its canonical index in decimal (ASCII digits).
_LEFT = re.compile(r"[0-9]{1,9}")
#: Half of a UTF-16 pair: JSON can carry one alone (``"\\ud800"``), text cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidResponse(DomainError):
    status = 422


def _index(value: Any, size: int) -> int:
    if type(value) is not int or not 0 <= value < size:
        raise InvalidResponse("That choice is not one of this question's options.")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) in (int, float):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidResponse("The answer must be text.")
    if len(value) > MAX_TEXT:
        raise InvalidResponse(
            f"The answer is too long (at most {MAX_TEXT} characters)."
        )
    if _SURROGATE.search(value):  # stored, it could never be sent in a page again
        raise InvalidResponse("The answer holds characters that are not text.")
    value = value.strip()
    return value or None


def clean(content: Mapping[str, Any], raw: Any) -> Any:
    """``raw`` checked against the question, or None for an empty answer.

    :raise InvalidResponse: with a message for the candidate.
    """
    kind = content["type"]
    if raw is None or raw == "" or raw == [] or raw == {}:
        return None
    if kind == "single":
        return _index(raw, len(content["choices"]))
    if kind == "multiple":
        if not isinstance(raw, list) or len(raw) > len(content["choices"]):
            raise InvalidResponse("Pick the options as a list.")
        picked = {_index(value, len(content["choices"])) for value in raw}
        return sorted(picked)
    if kind == "true_false":
        if type(raw) is not bool:
            raise InvalidResponse("The answer must be true or false.")
        return raw
    if kind in ("numeric", "text"):
        return _text(raw)
    if kind == "blanks":
        if not isinstance(raw, dict) or set(raw) - set(content["blanks"]):
            raise InvalidResponse("Fill in this question's blanks only.")
        blanks = {name: _text(raw.get(name)) for name in content["blanks"]}
        return blanks if any(v is not None for v in blanks.values()) else None
    if kind == "ordering":
        size = len(content["items"])
        if not isinstance(raw, list) or len(raw) != size:
            raise InvalidResponse("Put every item in a position.")
        order = [_index(value, size) for value in raw]
        if len(set(order)) != size:
            raise InvalidResponse("Give each item a different position.")
        return order
    if kind == "matching":
        lefts, options = len(content["pairs"]), len(grading.matching_options(content))
        if not isinstance(raw, dict):
            raise InvalidResponse("Match each item to an option.")
        matches = {}
        for key, value in raw.items():
            if (
                not isinstance(key, str)
                or not _LEFT.fullmatch(key)
                or int(key) >= lefts
            ):
                raise InvalidResponse("Match this question's items only.")
            if value is not None:
                matches[str(int(key))] = _index(value, options)
        return matches or None
    raise InvalidResponse("Unknown question type.")


def from_form(content: Mapping[str, Any], form: MultiDict) -> Any:
    """The answer in a plain form post, cleaned (see :func:`clean`).

    :raise InvalidResponse: with a message for the candidate.
    """
    kind = content["type"]
    try:
        if kind == "single":
            value = form.get("response", "")
            return clean(content, int(value) if value else None)
        if kind == "multiple":
            return clean(content, [int(v) for v in form.getlist("response")])
        if kind == "true_false":
            value = form.get("response", "")
            return clean(
                content, {"true": True, "false": False}[value] if value else None
            )
        if kind in ("numeric", "text"):
            return clean(content, form.get("response", ""))
        if kind == "blanks":
            return clean(
                content,
                {name: form.get(f"blank-{name}", "") for name in content["blanks"]},
            )
        if kind == "ordering":
            return clean(content, _order_from_ranks(form, len(content["items"])))
        if kind == "matching":
            return clean(
                content,
                {
                    str(left): int(form[f"match-{left}"])
                    for left in range(len(content["pairs"]))
                    if form.get(f"match-{left}")
                },
            )
    except (ValueError, KeyError):
        raise InvalidResponse("That answer could not be read; choose again.") from None
    raise InvalidResponse("Unknown question type.")


def _order_from_ranks(form: MultiDict, size: int) -> list[int] | None:
    ranks = {i: form.get(f"rank-{i}", "") for i in range(size)}
    if not any(ranks.values()):
        return None
    if not all(ranks.values()):
        raise InvalidResponse("Give every item a position.")
    by_rank = sorted(ranks, key=lambda i: int(ranks[i]))
    if len({ranks[i] for i in ranks}) != size:
        raise InvalidResponse("Give each item a different position.")
    return by_rank


def from_page(
    items: list, form: MultiDict
) -> tuple[dict[int, tuple[Any, bool]], dict[int, str]]:
    """Every answer of the all-on-one-page form, whose fields carry a ``q<N>-``
    prefix: ``({position: (answer, flagged)}, {position: error message})``."""
    answers: dict[int, tuple[Any, bool]] = {}
    errors: dict[int, str] = {}
    for item in items:
        prefix = f"q{item.position}-"
        fields = MultiDict(
            [
                (k.removeprefix(prefix), v)
                for k, v in form.items(multi=True)
                if k.startswith(prefix)
            ]
        )
        try:
            answers[item.position] = (
                from_form(item.version.content, fields),
                "flagged" in fields,
            )
        except InvalidResponse as error:
            errors[item.position] = error.message
    return answers, errors
