"""What the attempt pages show, built field by field.

:class:`ItemView` carries the question as :func:`quizapp.banks.presenters.present`
builds it (no key in it) plus the candidate's own answer. :class:`ResultItem` adds
score, feedback, explanation and the key, and is only built once
:func:`quizapp.delivery.services.results_visible` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from quizapp.banks.presenters import Option, QuestionView, answer_key, present
from quizapp.delivery.models import Attempt, AttemptItem


@dataclass(frozen=True)
class ItemView:
    position: int
    section_title: str | None
    question: QuestionView
    #: The candidate's answer as stored (their own data, safe to show).
    response: Any
    is_answered: bool
    is_flagged: bool
    saved_at: Any

    def picked(self) -> set[int]:
        """Picked option indices (single/multiple)."""
        if isinstance(self.response, list):
            return set(self.response)
        if type(self.response) is int:
            return {self.response}
        return set()

    def rank_of(self, index: int) -> int | None:
        """Ordering: the position (1-based) the candidate gave item ``index``."""
        if isinstance(self.response, list) and index in self.response:
            return self.response.index(index) + 1
        return None

    def match_of(self, left: int) -> int | None:
        if isinstance(self.response, dict):
            return self.response.get(str(left))
        return None

    def blank_value(self, name: str) -> str:
        if isinstance(self.response, dict):
            return self.response.get(name) or ""
        return ""


def _blank_input(response: Any, position: int, prefix: str):
    values = response if isinstance(response, dict) else {}

    def render(name: str) -> Markup:
        return Markup(
            '<input type="text" class="form-control form-control-sm d-inline-block '
            'blank-input" name="{3}blank-{0}" id="q{1}-blank-{0}" value="{2}" '
            'maxlength="1000" autocomplete="off" aria-label="blank {0}">'
        ).format(name, position, values.get(name) or "", prefix)

    return render


def question_of(item: AttemptItem, blank=None) -> QuestionView:
    seed = item.variant_seed if item.is_shuffled else None
    if blank is None:
        return present(item.version, item.params, seed)
    return present(item.version, item.params, seed, blank=blank)


def item_view(item: AttemptItem, prefix: str = "") -> ItemView:
    """The question with inputs for the candidate's answer; ``prefix`` goes before
    every field name (the all-on-one-page form uses ``q<position>-``)."""
    blank = _blank_input(item.response, item.position, prefix)
    return ItemView(
        position=item.position,
        section_title=item.section_title,
        question=question_of(item, blank),
        response=item.response,
        is_answered=item.is_answered,
        is_flagged=item.is_flagged,
        saved_at=item.saved_at,
    )


@dataclass(frozen=True)
class NavEntry:
    position: int
    is_answered: bool
    is_flagged: bool

    @property
    def label(self) -> str:
        state = "answered" if self.is_answered else "not answered"
        return f"Question {self.position}, {state}" + (
            ", flagged for review" if self.is_flagged else ""
        )


def navigator(attempt: Attempt) -> list[NavEntry]:
    return [
        NavEntry(item.position, item.is_answered, item.is_flagged)
        for item in attempt.items
    ]


@dataclass(frozen=True)
class ResultItem:
    position: int
    section_title: str | None
    question: QuestionView
    score: float
    points: float
    is_answered: bool
    #: right | partial | wrong | unanswered
    outcome: str
    #: The candidate's answer, as readable HTML fragments.
    answer: list[Markup]
    feedback: list[Markup] = field(default_factory=list)
    key: dict[str, Any] = field(default_factory=dict)


def result_item(item: AttemptItem) -> ResultItem:
    """One graded item with feedback and key: only for a visible result."""
    question = question_of(item)
    score = item.score or 0.0
    if not item.is_answered:
        outcome = "unanswered"
    elif score >= item.points:
        outcome = "right"
    elif score > 0:
        outcome = "partial"
    else:
        outcome = "wrong"
    key = answer_key(item.version, item.params)
    return ResultItem(
        position=item.position,
        section_title=item.section_title,
        question=question,
        score=score,
        points=item.points,
        is_answered=item.is_answered,
        outcome=outcome,
        answer=describe_answer(item, question),
        feedback=_feedback(item, key),
        key=key,
    )


def _feedback(item: AttemptItem, key: dict[str, Any]) -> list[Markup]:
    if item.version.type not in ("single", "multiple"):
        return []
    picked = item.response if isinstance(item.response, list) else [item.response]
    return [
        key["choices"][i]["feedback"]
        for i in picked
        if type(i) is int and i < len(key["choices"]) and key["choices"][i]["feedback"]
    ]


def describe_answer(item: AttemptItem, question: QuestionView) -> list[Markup]:
    """The candidate's answer in words, in the order they gave it."""
    response = item.response
    if response is None:
        return []
    kind = question.type
    by_index: dict[int, Option] = {o.index: o for o in question.options}
    if kind in ("single", "multiple", "ordering"):
        picked = [response] if type(response) is int else list(response)
        return [by_index[i].html for i in picked if i in by_index]
    if kind == "true_false":
        return [Markup("True") if response else Markup("False")]
    if kind in ("numeric", "text"):
        return [Markup("{0}").format(response)]
    if kind == "blanks":
        return [
            Markup("<strong>{0}</strong>: {1}").format(name, value or "—")
            for name, value in response.items()
        ]
    if kind == "matching":
        return [
            Markup("{0} → {1}").format(
                left.html, by_index[response[str(left.index)]].html
            )
            for left in question.lefts
            if str(left.index) in response and response[str(left.index)] in by_index
        ]
    return []
