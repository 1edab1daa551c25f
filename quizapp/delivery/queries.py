"""Read-only queries behind the candidate's dashboard and intro pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from quizapp.banks.models import ModuleAssessment, Programme, ProgrammeModule, Quiz
from quizapp.delivery import services
from quizapp.delivery.models import FINALIZED, Attempt
from quizapp.extensions import db


def question_count(quiz: Quiz) -> int:
    """How many questions every attempt at ``quiz`` has."""
    return sum(
        len(section["questions"]) if "questions" in section else section["draw"]
        for section in quiz.sections
    )


@dataclass(frozen=True)
class PastAttempt:
    attempt: Attempt
    #: Whether its score may be shown (the quiz's results policy).
    visible: bool


def past_attempts(user_id: int, quiz: Quiz, now: datetime) -> list[PastAttempt]:
    attempts = db.session.scalars(
        select(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.quiz_id == quiz.id,
            Attempt.status == FINALIZED,
        )
        .order_by(Attempt.number)
    )
    return [PastAttempt(a, services.results_visible(a, now)) for a in attempts]


@dataclass(frozen=True)
class DashboardRow:
    availability: services.Availability
    #: "Programme · screening" or "Programme · Module title", for each use.
    programmes: list[str]
    question_count: int
    past: list[PastAttempt]

    @property
    def quiz(self) -> Quiz:
        return self.availability.quiz

    @property
    def state_order(self) -> int:
        """Running first, then open, upcoming, and finished."""
        order = ("running", "open", "not_open", "no_attempts_left", "closed")
        return order.index(self.availability.state)


def dashboard_rows(user_id: int, now: datetime) -> list[DashboardRow]:
    """Quizzes the candidate can take now or later, and those they have taken;
    a closed quiz they never took is left out."""
    labels: dict[int, list[str]] = {}
    for quiz_id, title in db.session.execute(
        select(Programme.screening_quiz_id, Programme.title)
    ):
        labels.setdefault(quiz_id, []).append(f"{title} · screening")
    for quiz_id, programme, module in db.session.execute(
        select(ModuleAssessment.quiz_id, Programme.title, ProgrammeModule.title)
        .join(ProgrammeModule, ProgrammeModule.id == ModuleAssessment.module_id)
        .join(Programme, Programme.id == ProgrammeModule.programme_id)
        .order_by(ProgrammeModule.position)
    ):
        labels.setdefault(quiz_id, []).append(f"{programme} · {module}")
    rows = []
    for quiz in db.session.scalars(select(Quiz).order_by(Quiz.opens_at, Quiz.title)):
        state = services.availability(user_id, quiz, now)
        past = past_attempts(user_id, quiz, now)
        if state.state == "closed" and not past:
            continue
        rows.append(
            DashboardRow(
                state,
                labels.get(quiz.id, []),
                question_count(quiz),
                past,
            )
        )
    # Running and open quizzes first, then upcoming, then those taken.
    rows.sort(key=lambda row: row.state_order)
    return rows
