"""Keeping :class:`~quizapp.bootcamp.models.ModuleProgress` equal to the attempts and
the reviews, and reading it.

The rules (docs/bootcamp.md):

- An **assessment is passed** when one of the participant's finished attempts at
  it passed its pass mark (a quiz without a pass mark is passed by finishing it).
  Its score is the best percentage of those attempts.
- A **taught module is completed** when every one of its assessments is passed; a
  **project module** also needs at least one judge's review. A module with nothing
  to pass counts as completed.
- **In progress**: something is done (a finished attempt, a review) but not all.
  **Not started**: nothing done yet (no row).

Rows are rewritten from the attempts and the reviews, in the transaction of the
change, never adjusted: when an attempt is finalized or regraded, when an import
changes a quiz or a programme, when a judge submits a review. ``flask progress
rebuild`` recomputes everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select

from quizapp.banks.models import ModuleAssessment, Programme, ProgrammeModule, Quiz
from quizapp.bootcamp.models import (
    COMPLETED,
    IN_PROGRESS,
    NOT_STARTED,
    ModuleProgress,
    ProjectReview,
)
from quizapp.core import clock
from quizapp.core.signals import (
    attempt_finalized,
    attempts_regraded,
    programme_changed,
    quiz_changed,
)
from quizapp.delivery.models import FINALIZED, Attempt
from quizapp.extensions import db
from quizapp.programmes.services import project_scores_from
from quizapp.programmes.standings import percent_of_attempt

#: Participants per statement (keeps IN lists short).
BATCH = 1000


@dataclass
class _Done:
    """What a participant did at one assessment."""

    best: float = 0.0
    attempts: int = 0
    passed_at: datetime | None = None


def _passed_flag():
    # A quiz without a pass mark leaves ``passed`` NULL: finishing it passes.
    return case((Attempt.passed.is_(None), True), else_=Attempt.passed)


def _attempt_summaries(
    quiz_ids: list[int], user_ids: list[int]
) -> dict[tuple[int, int], _Done]:
    passed_at = func.min(case((_passed_flag(), Attempt.finished_at), else_=None))
    rows = db.session.execute(
        select(
            Attempt.quiz_id,
            Attempt.user_id,
            func.max(percent_of_attempt()),
            func.count(),
            passed_at,
        )
        .where(
            Attempt.quiz_id.in_(quiz_ids),
            Attempt.user_id.in_(user_ids),
            Attempt.status == FINALIZED,
        )
        .group_by(Attempt.quiz_id, Attempt.user_id)
    )
    return {
        (quiz_id, user_id): _Done(float(best or 0.0), count, first_pass)
        for quiz_id, user_id, best, count, first_pass in rows
    }


def _review_summaries(
    programme_id: int, slugs: list[str], user_ids: list[int]
) -> dict[tuple[str, int], tuple[float, int, datetime]]:
    rows = db.session.execute(
        select(
            ProjectReview.module_slug,
            ProjectReview.participant_id,
            func.avg(ProjectReview.points * 100.0 / ProjectReview.max_points),
            func.count(),
            func.min(ProjectReview.submitted_at),
        )
        .where(
            ProjectReview.programme_id == programme_id,
            ProjectReview.module_slug.in_(slugs),
            ProjectReview.participant_id.in_(user_ids),
        )
        .group_by(ProjectReview.module_slug, ProjectReview.participant_id)
    )
    return {
        (slug, user_id): (float(mean), count, first)
        for slug, user_id, mean, count, first in rows
    }


def _row(
    module: ProgrammeModule,
    user_id: int,
    done: dict[tuple[int, int], _Done],
    reviews: dict[tuple[str, int], tuple[float, int, datetime]],
    now: datetime,
) -> ModuleProgress | None:
    scores: dict[str, Any] = {}
    passed = 0
    touched = False
    finished: list[datetime] = []
    for assessment in module.assessments:
        record = done.get((assessment.quiz_id, user_id))
        if record is None:
            continue
        touched = True
        ok = record.passed_at is not None
        scores[str(assessment.quiz_id)] = {
            "best": round(record.best, 4),
            "passed": ok,
            "attempts": record.attempts,
        }
        if ok:
            passed += 1
            finished.append(record.passed_at)
    required = len(module.assessments)
    project_score = None
    review_count = 0
    if module.is_project:
        required += 1
        reviewed = reviews.get((module.slug, user_id))
        if reviewed is not None:
            touched = True
            project_score, review_count, first_review = reviewed
            project_score = round(project_score, 4)
            passed += 1
            finished.append(first_review)
    if not touched:
        return None
    complete = passed == required
    return ModuleProgress(
        module_id=module.id,
        user_id=user_id,
        programme_id=module.programme_id,
        status=COMPLETED if complete else IN_PROGRESS,
        passed=passed,
        required=required,
        scores=scores,
        project_score=project_score,
        reviews=review_count,
        completed_at=max(finished) if complete and finished else None,
        updated_at=now,
    )


def _everyone(modules: list[ProgrammeModule]) -> list[int]:
    """Everyone with something to count in ``modules``, or a row to clear."""
    quiz_ids = [a.quiz_id for m in modules for a in m.assessments]
    module_ids = [m.id for m in modules]
    ids: set[int] = set(
        db.session.scalars(
            select(ModuleProgress.user_id).where(
                ModuleProgress.module_id.in_(module_ids)
            )
        )
    )
    if quiz_ids:
        ids.update(
            db.session.scalars(
                select(Attempt.user_id)
                .where(Attempt.quiz_id.in_(quiz_ids), Attempt.status == FINALIZED)
                .distinct()
            )
        )
    for programme_id in {m.programme_id for m in modules}:
        ids.update(
            db.session.scalars(
                select(ProjectReview.participant_id)
                .where(ProjectReview.programme_id == programme_id)
                .distinct()
            )
        )
    return sorted(ids)


def refresh(
    modules: Iterable[ProgrammeModule], user_ids: Iterable[int] | None = None
) -> None:
    """Rewrite the progress of ``user_ids`` (everyone when None) in ``modules``."""
    modules = list(modules)
    if not modules:
        return
    ids = _everyone(modules) if user_ids is None else sorted(set(user_ids))
    quiz_ids = sorted({a.quiz_id for m in modules for a in m.assessments})
    now = clock.now()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        db.session.execute(
            delete(ModuleProgress).where(
                ModuleProgress.module_id.in_([m.id for m in modules]),
                ModuleProgress.user_id.in_(chunk),
            )
        )
        done = _attempt_summaries(quiz_ids, chunk) if quiz_ids else {}
        reviews: dict[tuple[str, int], tuple[float, int, datetime]] = {}
        for programme_id in {m.programme_id for m in modules if m.is_project}:
            slugs = [
                m.slug
                for m in modules
                if m.is_project and m.programme_id == programme_id
            ]
            reviews.update(_review_summaries(programme_id, slugs, chunk))
        rows = [
            row
            for module in modules
            for user_id in chunk
            if (row := _row(module, user_id, done, reviews, now)) is not None
        ]
        db.session.add_all(rows)
    db.session.flush()


def modules_assessing(quiz: Quiz) -> list[ProgrammeModule]:
    return list(
        db.session.scalars(
            select(ProgrammeModule)
            .join(ModuleAssessment, ModuleAssessment.module_id == ProgrammeModule.id)
            .where(ModuleAssessment.quiz_id == quiz.id)
        )
    )


def project_module(programme: Programme, slug: str) -> ProgrammeModule | None:
    return next((m for m in programme.modules if m.is_project and m.slug == slug), None)


def rebuild_all() -> int:
    """Recompute every programme's progress; returns the rows."""
    for programme in db.session.scalars(select(Programme)):
        refresh(programme.modules)
    return db.session.scalar(select(func.count()).select_from(ModuleProgress))


@attempt_finalized.connect
def _finalized(sender: Any, attempt: Attempt, **extra: Any) -> None:
    refresh(modules_assessing(attempt.quiz), [attempt.user_id])


@attempts_regraded.connect
def _regraded(sender: Any, quiz: Quiz, user_ids: list[int], **extra: Any) -> None:
    refresh(modules_assessing(quiz), user_ids)


@quiz_changed.connect
def _quiz_changed(sender: Any, quiz: Quiz, **extra: Any) -> None:
    refresh(modules_assessing(quiz))


@programme_changed.connect
def _programme_changed(sender: Any, programme: Programme, **extra: Any) -> None:
    db.session.flush()
    # Modules dropped by the import have lost their rows with them (cascade).
    refresh(programme.modules)


# -- Reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentStatus:
    quiz: Quiz
    #: Best percentage of the finished attempts; None: not taken.
    best: float | None
    passed: bool
    attempts: int


@dataclass(frozen=True)
class ModuleStatus:
    module: ProgrammeModule
    status: str
    assessments: list[AssessmentStatus]
    project_score: float | None
    reviews: int
    completed_at: datetime | None

    @property
    def remaining(self) -> list[str]:
        """What is left to do, in words."""
        left = [f"Pass {a.quiz.title}" for a in self.assessments if not a.passed]
        if self.module.is_project and not self.reviews:
            left.append("Present the project to the judges")
        return left


@dataclass(frozen=True)
class ParticipantProgress:
    programme: Programme
    modules: list[ModuleStatus] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return sum(1 for m in self.modules if m.status == COMPLETED)

    @property
    def is_complete(self) -> bool:
        return bool(self.modules) and self.completed == len(self.modules)

    @property
    def next_assessment(self) -> Quiz | None:
        """The first assessment not yet passed, in module order."""
        for module in self.modules:
            for assessment in module.assessments:
                if not assessment.passed:
                    return assessment.quiz
        return None

    @property
    def completed_at(self) -> datetime | None:
        if not self.is_complete:
            return None
        moments = [m.completed_at for m in self.modules if m.completed_at]
        return max(moments) if moments else None


def rows_for(
    programme: Programme, user_ids: list[int]
) -> dict[tuple[int, int], ModuleProgress]:
    """``(module_id, user_id)`` to row, for the programme's modules (one query per
    thousand participants)."""
    out: dict[tuple[int, int], ModuleProgress] = {}
    for start in range(0, len(user_ids), BATCH):
        chunk = user_ids[start : start + BATCH]
        for row in db.session.scalars(
            select(ModuleProgress).where(
                ModuleProgress.programme_id == programme.id,
                ModuleProgress.user_id.in_(chunk),
            )
        ):
            out[(row.module_id, row.user_id)] = row
    return out


def status_of(module: ProgrammeModule, row: ModuleProgress | None) -> str:
    if row is not None:
        return row.status
    if not module.assessments and not module.is_project:
        return COMPLETED
    return NOT_STARTED


def module_status(module: ProgrammeModule, row: ModuleProgress | None) -> ModuleStatus:
    scores = row.scores if row is not None else {}
    assessments = []
    for assessment in module.assessments:
        score = scores.get(str(assessment.quiz_id))
        assessments.append(
            AssessmentStatus(
                quiz=assessment.quiz,
                best=score["best"] if score else None,
                passed=bool(score and score["passed"]),
                attempts=score["attempts"] if score else 0,
            )
        )
    return ModuleStatus(
        module=module,
        status=status_of(module, row),
        assessments=assessments,
        project_score=row.project_score if row is not None else None,
        reviews=row.reviews if row is not None else 0,
        completed_at=row.completed_at if row is not None else None,
    )


def of_participants(
    programme: Programme, user_ids: list[int]
) -> dict[int, ParticipantProgress]:
    rows = rows_for(programme, user_ids)
    return {
        user_id: ParticipantProgress(
            programme,
            [module_status(m, rows.get((m.id, user_id))) for m in programme.modules],
        )
        for user_id in user_ids
    }


def of_participant(programme: Programme, user_id: int) -> ParticipantProgress:
    return of_participants(programme, [user_id])[user_id]


def completed_ids(programme: Programme, user_ids: list[int]) -> list[int]:
    """Those of ``user_ids`` who completed every module, in the order given."""
    done = of_participants(programme, user_ids)
    return [user_id for user_id in user_ids if done[user_id].is_complete]


@project_scores_from
def _project_scores(programme: Programme, user_ids: list[int]) -> dict[int, float]:
    """For the combined score: the mean over the programme's project modules of the
    judges' mean percentage (modules not yet judged left out)."""
    project_ids = [m.id for m in programme.modules if m.is_project]
    if not project_ids or not user_ids:
        return {}
    scored: dict[int, list[float]] = {}
    for row in rows_for(programme, user_ids).values():
        if row.module_id in project_ids and row.project_score is not None:
            scored.setdefault(row.user_id, []).append(row.project_score)
    return {user_id: sum(s) / len(s) for user_id, s in scored.items()}
