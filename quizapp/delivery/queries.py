"""Read-only queries behind the candidate's dashboard and intro pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from quizapp.banks.models import ModuleAssessment, Programme, ProgrammeModule, Quiz
from quizapp.delivery import services
from quizapp.delivery.models import FINALIZED, Accommodation, Attempt
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
    """Quizzes the candidate can take now or later, and those they have taken; a
    closed quiz they never took is left out. A fixed number of queries, however
    many quizzes there are."""
    quizzes = list(db.session.scalars(select(Quiz).order_by(Quiz.opens_at, Quiz.title)))
    labels, programmes = _programme_links()
    attempts: dict[int, list[Attempt]] = {}
    for attempt in db.session.scalars(
        select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.number)
    ):
        attempts.setdefault(attempt.quiz_id, []).append(attempt)
    mine = list(
        db.session.scalars(
            select(Accommodation).where(Accommodation.user_id == user_id)
        )
    )
    releases = _release_times(
        [q for q in quizzes if q.show_results == "after_close"], programmes
    )
    rows = []
    for quiz in quizzes:
        own = attempts.get(quiz.id, [])
        running = next((a for a in own if a.status != FINALIZED), None)
        accommodation = services.pick_accommodation(
            mine, quiz.id, programmes.get(quiz.id, ())
        )
        state = services.availability_with(
            quiz, services.terms_with(quiz, accommodation), len(own), running, now
        )
        past = [
            PastAttempt(a, services.results_visible(a, now, releases.get(quiz.id)))
            for a in own
            if a.status == FINALIZED
        ]
        if state.state == "closed" and not past:
            continue
        rows.append(
            DashboardRow(state, labels.get(quiz.id, []), question_count(quiz), past)
        )
    # Running and open quizzes first, then upcoming, then those taken.
    rows.sort(key=lambda row: row.state_order)
    return rows


def _programme_links() -> tuple[dict[int, list[str]], dict[int, set[int]]]:
    """``({quiz id: ["Programme · screening" | "Programme · Module"]}, {quiz id:
    programme ids})`` for every quiz that belongs to a programme."""
    labels: dict[int, list[str]] = {}
    programmes: dict[int, set[int]] = {}
    screening = select(Programme.screening_quiz_id, Programme.id, Programme.title)
    for quiz_id, programme_id, title in db.session.execute(screening):
        labels.setdefault(quiz_id, []).append(f"{title} · screening")
        programmes.setdefault(quiz_id, set()).add(programme_id)
    for quiz_id, programme_id, programme, module in db.session.execute(
        select(
            ModuleAssessment.quiz_id,
            Programme.id,
            Programme.title,
            ProgrammeModule.title,
        )
        .join(ProgrammeModule, ProgrammeModule.id == ModuleAssessment.module_id)
        .join(Programme, Programme.id == ProgrammeModule.programme_id)
        .order_by(ProgrammeModule.position)
    ):
        labels.setdefault(quiz_id, []).append(f"{programme} · {module}")
        programmes.setdefault(quiz_id, set()).add(programme_id)
    return labels, programmes


def _release_times(
    quizzes: list[Quiz], programmes: dict[int, set[int]]
) -> dict[int, datetime | None]:
    """When the results of each ``after_close`` quiz are released, in one query."""
    if not quizzes:
        return {}
    quiz_ids = [quiz.id for quiz in quizzes]
    programme_ids = set().union(*(programmes.get(i, set()) for i in quiz_ids))
    scoped = list(
        db.session.scalars(
            select(Accommodation).where(
                Accommodation.quiz_id.in_(quiz_ids)
                | Accommodation.programme_id.in_(programme_ids)
            )
        )
    )
    return {
        quiz.id: services.release_with(
            quiz,
            [
                a
                for a in scoped
                if a.quiz_id == quiz.id or a.programme_id in programmes.get(quiz.id, ())
            ],
        )
        for quiz in quizzes
    }
