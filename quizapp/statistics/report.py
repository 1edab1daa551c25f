"""A quiz's item statistics as the page and its chart show them: the numbers of
:mod:`~quizapp.statistics.psychometrics` over the data of
:mod:`~quizapp.statistics.queries`, with each question's flags and, for choice
questions, how often each option was picked.

Flags (thresholds from Moodle's documentation, see docs/statistics.md):

- ``negative``: discrimination (the item-rest correlation) below 0: stronger
  candidates did worse on the question than weaker ones; check the key.
- ``weak``: discrimination from 0 up to (not including) :data:`WEAK_BELOW`.
- ``too_easy``: facility above :data:`TOO_EASY_ABOVE`; ``too_hard``: below
  :data:`TOO_HARD_BELOW`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from quizapp.banks.models import Quiz
from quizapp.statistics import psychometrics, queries
from quizapp.statistics.psychometrics import ItemStatistics, Reliability, Summary

WEAK_BELOW = 0.2
TOO_EASY_ABOVE = 0.9
TOO_HARD_BELOW = 0.1

#: Flag -> what the page says.
FLAGS = {
    "negative": "Negative discrimination",
    "weak": "Weak discrimination",
    "too_easy": "Too easy",
    "too_hard": "Too hard",
}

NO_OPTION = "No option picked"


@dataclass(frozen=True)
class Option:
    text: str
    is_correct: bool
    #: Shares (0 to 1) of the attempts that picked it: all counted attempts that
    #: drew the question, its upper group and its lower group (None: no groups).
    share: float
    share_upper: float | None
    share_lower: float | None


@dataclass(frozen=True)
class QuestionStatistics:
    #: 1, 2, 3... in the quiz's order: the label of its point in the chart.
    number: int
    question_id: int
    bank_slug: str
    key: str
    #: The newest version's number, type and points.
    version_number: int
    type: str
    points: float
    items: ItemStatistics
    flags: tuple[str, ...]
    #: Single and multiple choice questions only, else None.
    options: list[Option] | None

    @property
    def ref(self) -> str:
        return f"{self.bank_slug}/{self.key}"


@dataclass(frozen=True)
class QuizStatistics:
    which: str
    #: Counted attempts, and the candidates who made them.
    attempts: int
    candidates: int
    #: Attempt results in % of each attempt's own maximum.
    percent: Summary
    #: The same in points, when every counted attempt had the same maximum.
    points: Summary | None
    max_score: float | None
    reliability: Reliability
    group_size: int
    questions: list[QuestionStatistics]

    @property
    def is_empty(self) -> bool:
        return self.attempts == 0

    @property
    def flagged(self) -> list[QuestionStatistics]:
        return [q for q in self.questions if q.flags]


def flags_for(items: ItemStatistics) -> tuple[str, ...]:
    """The question's flags, in the order of :data:`FLAGS`."""
    out = []
    r = items.discrimination
    if r is not None and r < 0:
        out.append("negative")
    elif r is not None and r < WEAK_BELOW:
        out.append("weak")
    if items.facility is not None and items.facility > TOO_EASY_ABOVE:
        out.append("too_easy")
    if items.facility is not None and items.facility < TOO_HARD_BELOW:
        out.append("too_hard")
    return tuple(out)


def quiz_statistics(
    quiz: Quiz, which: str = queries.DEFAULT_ATTEMPTS, with_options: bool = True
) -> QuizStatistics:
    """Every statistic of ``quiz`` over the attempts ``which`` selects, in a fixed
    number of statements (see :func:`queries.load`).

    :raise ValueError: ``which`` is not one of :data:`queries.ATTEMPT_SETS`.
    """
    data = queries.load(quiz, which, with_picks=with_options)
    k = len(data.question_ids)
    maxima = np.unique(data.max_score)
    same_max = len(maxima) == 1
    items = psychometrics.item_statistics(data.cells, k)
    return QuizStatistics(
        which=which,
        attempts=data.attempts,
        candidates=data.candidates,
        percent=psychometrics.describe(data.percent, data.count),
        points=psychometrics.describe(data.score, data.count) if same_max else None,
        max_score=float(maxima[0]) if same_max else None,
        reliability=psychometrics.cronbach_alpha(data.complete, k),
        group_size=psychometrics.group_size(data.attempts),
        questions=[
            _question(number, data, question_id, stats, with_options)
            for number, (question_id, stats) in enumerate(
                zip(data.question_ids, items, strict=True), start=1
            )
        ],
    )


def _question(
    number: int,
    data: queries.Dataset,
    question_id: int,
    items: ItemStatistics,
    with_options: bool,
) -> QuestionStatistics:
    versions = data.versions[question_id]
    newest = versions[-1]
    picks = [p for p in data.picks or () if p.question_id == question_id]
    return QuestionStatistics(
        number=number,
        question_id=question_id,
        bank_slug=newest.bank_slug,
        key=newest.key,
        version_number=newest.number,
        type=newest.type,
        points=newest.points,
        items=items,
        flags=flags_for(items),
        options=_options(versions, picks, items)
        if with_options and newest.type in queries.CHOICE_TYPES
        else None,
    )


def _picked(version: queries.Version, response: Any) -> set[int]:
    """The choice indices a response picks, in the grading engine's format (an
    index for single choice, a list of indices for multiple); nothing for an
    unanswered or malformed response."""
    size = len(version.content.get("choices", ()))

    def valid(i: Any) -> bool:
        return type(i) is int and 0 <= i < size

    if version.type == "single":
        return {response} if valid(response) else set()
    if isinstance(response, list) and all(valid(i) for i in response):
        return set(response)
    return set()


def _options(
    versions: list[queries.Version],
    picks: list[queries.Picks],
    items: ItemStatistics,
) -> list[Option]:
    """How often each option was picked, by everyone and by the question's upper
    and lower groups (attempts at the edge of a group count with their share, see
    :class:`~quizapp.statistics.psychometrics.Cut`).

    Options are told apart by their text, so a choice keeps its row when a new
    version reorders the choices; the newest version's choices come first, in its
    order, and "No option picked" last.
    """
    by_id = {v.id: v for v in versions}
    used = {p.version_id for p in picks}
    newest_first = [v for v in reversed(versions) if v.id in used] or versions[-1:]
    correct: dict[str, bool] = {}
    for version in newest_first:
        for choice in version.content.get("choices", ()):
            correct.setdefault(choice["text"], bool(choice.get("correct")))
    cuts = items.cuts or ()
    # Per text: attempts that picked it, as [everyone, upper group, lower group].
    tally = {text: np.zeros(3) for text in [*correct, NO_OPTION]}
    totals = np.zeros(3)
    for pick in picks:
        weights = np.zeros(3)
        weights[0] = pick.counts.sum()
        for i, cut in enumerate(cuts, start=1):
            weights[i] = np.dot(pick.counts, cut.weights(pick.percent))
        totals += weights
        version = by_id[pick.version_id]
        choices = version.content["choices"]
        chosen = [choices[i]["text"] for i in sorted(_picked(version, pick.response))]
        for text in chosen or [NO_OPTION]:
            tally[text] += weights

    def share(text: str, group: int) -> float | None:
        if group and not cuts:
            return None
        return float(tally[text][group] / totals[group]) if totals[group] else 0.0

    texts = [*correct, *([NO_OPTION] if tally[NO_OPTION][0] else [])]
    return [
        Option(
            text,
            correct.get(text, False),
            share(text, 0) or 0.0,
            share(text, 1),
            share(text, 2),
        )
        for text in texts
    ]


def scatter(stats: QuizStatistics) -> dict[str, Any]:
    """The JSON of the facility-against-discrimination chart (``scatter`` kind of
    static/js/charts.js). Questions whose discrimination is undefined have no
    point; ``omitted`` counts them."""
    points = [
        {
            "x": round(q.items.facility, 4),
            "y": round(q.items.discrimination, 4),
            "label": f"{q.number}. {q.ref}",
            "short": str(q.number),
            "flagged": bool(q.flags),
        }
        for q in stats.questions
        if q.items.facility is not None and q.items.discrimination is not None
    ]
    lowest = min((p["y"] for p in points), default=0.0)
    return {
        "label": "Facility against discrimination, "
        + queries.ATTEMPT_SETS[stats.which],
        "x_label": "Facility index",
        "y_label": "Discrimination (item-rest r)",
        "x_min": 0,
        "x_max": 1,
        "y_min": min(-0.2, float(np.floor(lowest * 10) / 10)),
        "y_max": 1,
        "x_guides": [TOO_HARD_BELOW, TOO_EASY_ABOVE],
        "y_guides": [0, WEAK_BELOW],
        "points": points,
        "omitted": len(stats.questions) - len(points),
    }
