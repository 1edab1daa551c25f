"""Read-only queries of the authoring pages: the question finder, and the quizzes a
question can appear in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from quizapp.banks import schema
from quizapp.banks.checker import pool_members
from quizapp.banks.models import Bank, Question, QuestionVersion, Quiz
from quizapp.banks.sync import catalogue_of, live_questions
from quizapp.extensions import db

#: The finder shows at most this many questions (narrow the filters for more).
LIMIT = 300


@dataclass(frozen=True)
class Filters:
    q: str = ""
    bank: str = ""
    type: str = ""
    tag: str = ""
    difficulty: str = ""
    module: str = ""
    show: str = "live"  # live | retired | all


@dataclass(frozen=True)
class Row:
    bank: Bank
    question: Question
    version: QuestionVersion


def find_questions(filters: Filters) -> list[Row]:
    """Questions of every bank with their current versions, filtered, in bank and
    file order; at most :data:`LIMIT` + 1 (so the page can say there are more)."""
    query = (
        select(Bank, Question, QuestionVersion)
        .join(Question, Question.bank_id == Bank.id)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .order_by(Bank.slug, Question.position, Question.key)
    )
    if filters.show == "live":
        query = query.where(Question.retired_at.is_(None))
    elif filters.show == "retired":
        query = query.where(Question.retired_at.is_not(None))
    if filters.bank:
        query = query.where(Bank.slug == filters.bank)
    if filters.type:
        query = query.where(QuestionVersion.type == filters.type)
    if filters.difficulty:
        query = query.where(QuestionVersion.difficulty == filters.difficulty)
    if filters.module:
        query = query.where(QuestionVersion.module == filters.module)
    rows = [Row(*row) for row in db.session.execute(query)]
    # Tags are a JSON list and the prompt is text: filtered here, the same way on
    # SQLite and PostgreSQL.
    if filters.tag:
        rows = [row for row in rows if filters.tag in row.version.tags]
    if filters.q:
        needle = filters.q.casefold()
        rows = [
            row
            for row in rows
            if needle in row.question.key.casefold()
            or needle in row.version.content["prompt"].casefold()
        ]
    return rows[: LIMIT + 1]


def modules() -> list[str]:
    """Every module a current version belongs to, for the filter."""
    return sorted(
        db.session.scalars(
            select(QuestionVersion.module)
            .join(Question, Question.current_version_id == QuestionVersion.id)
            .where(QuestionVersion.module.is_not(None))
            .distinct()
        )
    )


@dataclass(frozen=True)
class Use:
    quiz: Quiz
    #: The section's number, from 1, and how it takes the question.
    section: int
    how: str  # "listed" | "drawn from a pool"


def quizzes_using(question: Question) -> list[Use]:
    """The quizzes whose sections list the question or may draw it (live only)."""
    if question.retired_at is not None:
        return []
    ref = question.ref
    catalogue = catalogue_of(live_questions())
    uses = []
    for quiz in db.session.scalars(select(Quiz).order_by(Quiz.slug)):
        for i, section in enumerate(quiz.sections, start=1):
            if ref in section.get("questions", []):
                uses.append(Use(quiz, i, "listed"))
            elif "from" in section:
                pool = schema.Pool.model_validate(section["from"])
                if ref in pool_members(pool, catalogue):
                    uses.append(Use(quiz, i, "drawn from a pool"))
    return uses
