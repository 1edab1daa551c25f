"""Read-only queries behind the staff bank pages: one query per page, none per row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from quizapp.banks.models import Bank, Question, QuestionVersion, Quiz
from quizapp.extensions import db


@dataclass(frozen=True)
class BankRow:
    bank: Bank
    live: int
    retired: int


def bank_rows() -> list[BankRow]:
    live = func.count(case((Question.retired_at.is_(None), Question.id)))
    retired = func.count(case((Question.retired_at.is_not(None), Question.id)))
    rows = db.session.execute(
        select(Bank, live, retired)
        .outerjoin(Question, Question.bank_id == Bank.id)
        .group_by(Bank.id)
        .order_by(Bank.slug)
    )
    return [BankRow(bank, n_live, n_retired) for bank, n_live, n_retired in rows]


def quizzes() -> list[Quiz]:
    return list(db.session.scalars(select(Quiz).order_by(Quiz.slug)))


@dataclass(frozen=True)
class Filters:
    q: str = ""
    type: str = ""
    difficulty: str = ""
    tag: str = ""
    show: str = "live"  # live | retired | all


def bank_questions(
    bank: Bank, filters: Filters
) -> list[tuple[Question, QuestionVersion]]:
    """The bank's questions with their current versions, filtered."""
    query = (
        select(Question, QuestionVersion)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.bank_id == bank.id)
        .order_by(Question.position, Question.key)
    )
    if filters.show == "live":
        query = query.where(Question.retired_at.is_(None))
    elif filters.show == "retired":
        query = query.where(Question.retired_at.is_not(None))
    if filters.type:
        query = query.where(QuestionVersion.type == filters.type)
    if filters.difficulty:
        query = query.where(QuestionVersion.difficulty == filters.difficulty)
    rows = [tuple(row) for row in db.session.execute(query)]
    if filters.tag:
        rows = [row for row in rows if filters.tag in row[1].tags]
    if filters.q:
        needle = filters.q.casefold()
        rows = [
            row
            for row in rows
            if needle in row[0].key.casefold()
            or needle in row[1].content["prompt"].casefold()
        ]
    return rows  # type: ignore[return-value]
