"""Keeping :class:`~quizapp.programmes.models.Standing` equal to the attempts.

A candidate's standing at a quiz is their counting attempt (the quiz's grading
method decides which: ``highest`` the best percentage, then less time used, then
the earlier; ``latest`` the last finished; ``first`` the first). It is rewritten
from the attempts, never adjusted, in the same transaction as the change:

- when an attempt is finalized (``attempt_finalized``): that candidate's row;
- after a regrade (``attempts_regraded``): the rows of everyone regraded, in one
  statement;
- when an import changed a quiz (``quiz_changed``): every row of the quiz.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.sql.elements import ColumnElement

from quizapp.accounts.models import User
from quizapp.banks.models import Quiz
from quizapp.core.signals import attempt_finalized, attempts_regraded, quiz_changed
from quizapp.delivery.models import FINALIZED, Attempt
from quizapp.extensions import db
from quizapp.programmes.models import Standing

#: Refresh this many candidates per statement (keeps IN lists short).
BATCH = 1000


def percent_of_attempt() -> ColumnElement[float]:
    return func.coalesce(
        Attempt.score * 100.0 / func.nullif(Attempt.max_score, 0.0), literal(0.0)
    )


def pick_order(grading: str) -> list[ColumnElement]:
    """A candidate's attempts, the counting one first."""
    if grading == "latest":
        return [Attempt.number.desc()]
    if grading == "first":
        return [Attempt.number.asc()]
    return [
        percent_of_attempt().desc(),
        Attempt.seconds_used.asc(),
        Attempt.finished_at.asc(),
        Attempt.number.asc(),
    ]


def _counting(quiz: Quiz, user_ids: list[int] | None):
    counted = select(
        Attempt.quiz_id,
        Attempt.user_id,
        Attempt.id.label("attempt_id"),
        Attempt.number.label("attempt_number"),
        func.count().over(partition_by=Attempt.user_id).label("attempts"),
        Attempt.score,
        Attempt.max_score,
        percent_of_attempt().label("percent"),
        Attempt.seconds_used,
        Attempt.finished_at,
        Attempt.passed,
        func.row_number()
        .over(partition_by=Attempt.user_id, order_by=pick_order(quiz.grading))
        .label("pick"),
    ).where(Attempt.quiz_id == quiz.id, Attempt.status == FINALIZED)
    if user_ids is not None:
        counted = counted.where(Attempt.user_id.in_(user_ids))
    counted = counted.subquery("counted")
    columns = [c for c in counted.c if c.name != "pick"]
    return (
        select(*columns, User.created_at)
        .join(User, User.id == counted.c.user_id)
        .where(counted.c.pick == 1)
    )


def refresh(quiz: Quiz, user_ids: Iterable[int] | None = None) -> None:
    """Rewrite the standings of ``user_ids`` (everyone when None) at ``quiz``."""
    targets = [
        Standing.quiz_id,
        *(
            getattr(Standing, name)
            for name in (
                "user_id",
                "attempt_id",
                "attempt_number",
                "attempts",
                "score",
                "max_score",
                "percent",
                "seconds_used",
                "finished_at",
                "passed",
                "user_created_at",
            )
        ),
    ]
    ids = None if user_ids is None else sorted(set(user_ids))
    chunks = (
        [None]
        if ids is None
        else [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    )
    for chunk in chunks:
        gone = delete(Standing).where(Standing.quiz_id == quiz.id)
        if chunk is not None:
            gone = gone.where(Standing.user_id.in_(chunk))
        db.session.execute(gone)
        db.session.execute(
            insert(Standing).from_select(targets, _counting(quiz, chunk))
        )


def rebuild_all() -> int:
    """Recompute every quiz's standings from the attempts; returns the rows."""
    for quiz in db.session.scalars(select(Quiz)):
        refresh(quiz)
    return db.session.scalar(select(func.count()).select_from(Standing))


@attempt_finalized.connect
def _finalized(sender: Any, attempt: Attempt, **extra: Any) -> None:
    refresh(attempt.quiz, [attempt.user_id])


@attempts_regraded.connect
def _regraded(sender: Any, quiz: Quiz, user_ids: list[int], **extra: Any) -> None:
    refresh(quiz, user_ids)


@quiz_changed.connect
def _quiz_changed(sender: Any, quiz: Quiz, **extra: Any) -> None:
    refresh(quiz)
