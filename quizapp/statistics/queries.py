"""What a quiz's statistics are computed from, in a fixed number of statements
whatever the number of attempts, each summed in SQL so that Python gets a few
thousand rows, not one per item.

- **The counted attempts** (a subquery of each statement): finalized attempts at
  the quiz, either each candidate's first, each candidate's last (by attempt
  number, among finalized ones: the counting-attempt rule of
  :mod:`quizapp.programmes.ranking` for ``first`` and ``latest``), or all of them,
  each as an independent attempt. Attempts without items (delivery makes none;
  imports and tests can) count nowhere.

1. **The results**: how many counted attempts have each (score, maximum), and how
   many candidates made them: the quiz's mean, median and standard deviation.
2. **The cells**: per question version and group of attempts with the same score
   and maximum, the count, sum, sum of squares, lowest and highest of the scores,
   the points available and how many scores were partial:
   :class:`~quizapp.statistics.psychometrics.Cells`, all the item statistics
   need. Several versions of one question count as that one question.
3. **The questions**: every version of the questions in the cells, for labels and
   the choices of single and multiple choice questions.
4. **The picks** (the page only): responses to choice questions, counted per
   version, response and attempt result, for the options table.
5. Only when some counted attempt did not draw every question (random sections,
   or questions added to the quiz since): **the cells of the attempts that drew
   them all**, for Cronbach's alpha.

The total an item is compared with is the attempt's stored score: the sum of its
item scores, rounded to 6 places when it was finalized or regraded. A quiz never
holds one question twice (the checker refuses it, and draws skip questions already
drawn), so an attempt has one item per question it drew.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import Text, case, cast, func, select

from quizapp.banks.models import Bank, Question, QuestionVersion, Quiz
from quizapp.delivery.models import FINALIZED, Attempt, AttemptItem
from quizapp.extensions import db
from quizapp.statistics.psychometrics import Cells

#: ``?attempts=`` values: which attempts count, and how the page says it.
ATTEMPT_SETS = {
    "first": "each candidate's first attempt",
    "last": "each candidate's last attempt",
    "all": "every attempt",
}
DEFAULT_ATTEMPTS = "first"
CHOICE_TYPES = ("single", "multiple")


def counted_attempts(quiz: Quiz, which: str):
    """The subquery of counted attempts: ``id``, ``user_id``, ``score``,
    ``max_score``.

    :raise ValueError: ``which`` is not one of :data:`ATTEMPT_SETS`.
    """
    if which not in ATTEMPT_SETS:
        raise ValueError(f"unknown attempt set {which!r}")
    columns = (Attempt.id, Attempt.user_id, Attempt.score, Attempt.max_score)
    finalized = (Attempt.quiz_id == quiz.id, Attempt.status == FINALIZED)
    if which == "all":
        return select(*columns).where(*finalized).subquery("counted")
    order = Attempt.number.asc() if which == "first" else Attempt.number.desc()
    picked = (
        select(
            *columns,
            func.row_number()
            .over(partition_by=Attempt.user_id, order_by=order)
            .label("pick"),
        )
        .where(*finalized)
        .subquery("picked")
    )
    return (
        select(picked.c.id, picked.c.user_id, picked.c.score, picked.c.max_score)
        .where(picked.c.pick == 1)
        .subquery("counted")
    )


def percent_of(score: np.ndarray, max_score: np.ndarray) -> np.ndarray:
    """Score over maximum in %, rounded to 9 places so that equal results compare
    equal (the groups' ties); 0 for an attempt worth nothing. One function for the
    results, the cells and the picks, so all three rank an attempt the same."""
    safe = np.where(max_score > 0, max_score, 1.0)
    return np.round(np.where(max_score > 0, 100.0 * score / safe, 0.0), 9)


@dataclass(frozen=True)
class Version:
    id: int
    question_id: int
    number: int
    type: str
    points: float
    content: dict[str, Any]
    bank_slug: str
    key: str

    @property
    def ref(self) -> str:
        return f"{self.bank_slug}/{self.key}"


@dataclass(frozen=True)
class Picks:
    """Counted attempts that gave ``response`` to a version, by attempt result."""

    question_id: int
    version_id: int
    #: The response as stored (the grading engine's format).
    response: Any
    percent: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class Dataset:
    """The counted attempts of one quiz, summed."""

    #: Counted attempts, and the candidates who made them.
    attempts: int
    candidates: int
    #: The distinct (score, maximum) of the counted attempts, with their
    #: percentage and how many attempts have each.
    score: np.ndarray
    max_score: np.ndarray
    percent: np.ndarray
    count: np.ndarray
    #: Column order: the quiz's sections as written, then drawn questions by ref.
    question_ids: list[int]
    cells: Cells
    #: The cells of the attempts that drew every question (for alpha).
    complete: Cells
    #: Every version of each question, oldest first.
    versions: dict[int, list[Version]]
    #: None when not asked for.
    picks: list[Picks] | None


def load(quiz: Quiz, which: str = DEFAULT_ATTEMPTS, with_picks: bool = True) -> Dataset:
    """Everything :mod:`quizapp.statistics.report` needs, in 4 statements (3
    without the picks, 1 when no attempt counts), and a 5th when not every counted
    attempt drew every question.

    :raise ValueError: ``which`` is not one of :data:`ATTEMPT_SETS`.
    """
    counted = counted_attempts(quiz, which)
    has_items = (
        select(AttemptItem.id).where(AttemptItem.attempt_id == counted.c.id).exists()
    )
    candidates = (
        select(func.count(func.distinct(counted.c.user_id)))
        .where(has_items)
        .correlate(None)
        .scalar_subquery()
    )
    results = _numbers(
        select(counted.c.score, counted.c.max_score, func.count(), candidates)
        .where(has_items)
        .group_by(counted.c.score, counted.c.max_score)
    )
    if len(results) == 0:
        return _empty()
    rows = _numbers(_cells(counted))
    versions = _versions(np.unique(rows[:, 0]).astype(int).tolist())
    question_ids = _column_order(quiz, versions)
    column_of = {
        v.id: question_ids.index(qid) for qid, found in versions.items() for v in found
    }
    cells = _as_cells(rows, column_of)
    attempts = round(float(results[:, 2].sum()))
    drew_all = all(
        round(float(cells.of(j).count.sum())) == attempts
        for j in range(len(question_ids))
    )
    complete = (
        cells
        if drew_all
        else _as_cells(_numbers(_cells(counted, len(question_ids))), column_of)
    )
    return Dataset(
        attempts=attempts,
        candidates=round(float(results[0, 3])),
        score=results[:, 0],
        max_score=results[:, 1],
        percent=percent_of(results[:, 0], results[:, 1]),
        count=results[:, 2],
        question_ids=question_ids,
        cells=cells,
        complete=complete,
        versions=versions,
        picks=_picks(counted, versions) if with_picks else None,
    )


def _numbers(statement) -> np.ndarray:
    """A statement's rows of numbers as a float matrix, one row per row.

    Run on the session's connection (Core rows, not the ORM's), and poured into
    numpy value by value: ``np.array(rows)`` would probe every row object for the
    array protocols first, which costs more than the query itself.
    """
    result = db.session.connection().execute(statement)
    width = len(result.keys())
    flat = np.fromiter(chain.from_iterable(result.all()), dtype=float)
    return flat.reshape(-1, width)


def _cells(counted, only_drawing: int | None = None):
    """The statement of the cells' rows (first column the version id); with
    ``only_drawing``, of the attempts with that many items only."""
    score = func.coalesce(AttemptItem.score, 0.0)
    is_partial = case(((score == 0) | (score == AttemptItem.points), 0), else_=1)
    statement = (
        select(
            AttemptItem.version_id,
            func.count(),
            counted.c.score,
            counted.c.max_score,
            func.sum(score),
            func.sum(score * score),
            func.min(score),
            func.max(score),
            func.sum(AttemptItem.points),
            func.sum(is_partial),
        )
        .join(counted, counted.c.id == AttemptItem.attempt_id)
        .group_by(AttemptItem.version_id, counted.c.score, counted.c.max_score)
    )
    if only_drawing is not None:
        drew = (
            select(AttemptItem.attempt_id)
            .join(counted, counted.c.id == AttemptItem.attempt_id)
            .group_by(AttemptItem.attempt_id)
            .having(func.count() == only_drawing)
        )
        statement = statement.where(AttemptItem.attempt_id.in_(drew))
    return statement


def _as_cells(rows: np.ndarray, column_of: dict[int, int]) -> Cells:
    """:class:`Cells` from the rows of :func:`_cells`, versions mapped to their
    question's column."""
    return Cells(
        question=np.array([column_of[int(v)] for v in rows[:, 0]], dtype=int),
        count=rows[:, 1],
        total=rows[:, 2],
        percent=percent_of(rows[:, 2], rows[:, 3]),
        score=rows[:, 4],
        score_squares=rows[:, 5],
        low=rows[:, 6],
        high=rows[:, 7],
        points=rows[:, 8],
        partial=rows[:, 9],
    )


def _empty() -> Dataset:
    nothing = np.zeros(0)
    return Dataset(
        attempts=0,
        candidates=0,
        score=nothing,
        max_score=nothing,
        percent=nothing,
        count=nothing,
        question_ids=[],
        cells=Cells.from_matrix(np.zeros((0, 0)), np.zeros((0, 0)), nothing),
        complete=Cells.from_matrix(np.zeros((0, 0)), np.zeros((0, 0)), nothing),
        versions={},
        picks=[],
    )


def _versions(version_ids: list[int]) -> dict[int, list[Version]]:
    """Every version of the questions of ``version_ids``, by question, oldest
    first."""
    of_questions = select(QuestionVersion.question_id).where(
        QuestionVersion.id.in_(version_ids)
    )
    out: dict[int, list[Version]] = {}
    for row in db.session.execute(
        select(
            QuestionVersion.id,
            QuestionVersion.question_id,
            QuestionVersion.number,
            QuestionVersion.type,
            QuestionVersion.points,
            QuestionVersion.content,
            Bank.slug,
            Question.key,
        )
        .join(Question, Question.id == QuestionVersion.question_id)
        .join(Bank, Bank.id == Question.bank_id)
        .where(QuestionVersion.question_id.in_(of_questions))
        .order_by(QuestionVersion.question_id, QuestionVersion.number)
    ):
        out.setdefault(row.question_id, []).append(Version(*row))
    return out


def _column_order(quiz: Quiz, versions: dict[int, list[Version]]) -> list[int]:
    """Questions in the order the quiz's fixed sections list them; questions drawn
    from pools after them, by ref."""
    written: dict[str, int] = {}
    for section in quiz.sections:
        for ref in section.get("questions", ()):
            written.setdefault(ref, len(written))
    refs = {qid: found[0].ref for qid, found in versions.items()}
    return sorted(
        versions, key=lambda qid: (written.get(refs[qid], len(written)), refs[qid])
    )


def _picks(counted, versions: dict[int, list[Version]]) -> list[Picks]:
    """Choice questions' responses, counted per version, response and result."""
    question_of = {v.id: v.question_id for found in versions.values() for v in found}
    response = cast(AttemptItem.response, Text)
    rows = (
        db.session.connection()
        .execute(
            select(
                AttemptItem.version_id,
                response,
                counted.c.score,
                counted.c.max_score,
                func.count(),
            )
            .join(counted, counted.c.id == AttemptItem.attempt_id)
            .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
            .where(QuestionVersion.type.in_(CHOICE_TYPES))
            .group_by(
                AttemptItem.version_id, response, counted.c.score, counted.c.max_score
            )
        )
        .all()
    )
    grouped: dict[tuple[int, str | None], list[tuple[float, float, int]]] = {}
    for version_id, text, score, max_score, count in rows:
        grouped.setdefault((version_id, text), []).append((score, max_score, count))
    out = []
    for (version_id, text), levels in sorted(
        grouped.items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        values = np.array(levels, dtype=float)
        out.append(
            Picks(
                question_id=question_of[version_id],
                version_id=version_id,
                response=None if text is None else json.loads(text),
                percent=percent_of(values[:, 0], values[:, 1]),
                counts=values[:, 2],
            )
        )
    return out
