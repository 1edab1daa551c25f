"""Banks, versioned questions, images, quizzes and programmes in the database.

The files are the source; these rows are what attempts point at. A question keeps
its identity (bank + id) across imports; every distinct content gets its own
immutable :class:`QuestionVersion`, and attempts refer to versions, never to the
mutable :class:`Question` row. Removing a question from its file retires it: it is no
longer drawn, but it and its versions stay for the attempts that used them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.core import clock
from quizapp.extensions import db

GRADING_METHODS = ("highest", "latest", "first")
RESULTS_POLICIES = ("immediately", "after_close", "never")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Bank(db.Model):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: Default module slug of its questions.
    module: Mapped[str | None] = mapped_column(String(64))
    #: Tags every question inherits.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Where it was last imported from, e.g. ``question_banks/x/bank.yaml``.
    source_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    questions: Mapped[list[Question]] = relationship(
        back_populates="bank", order_by="Question.position"
    )

    def __repr__(self) -> str:
        return f"<Bank {self.slug}>"


class Question(db.Model):
    """A question's identity; its content is in :attr:`current_version`."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank_id", "key", name="bank_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    #: The ``id`` from the file, unique inside the bank.
    key: Mapped[str] = mapped_column(String(64))
    #: Order in the file, so export writes the bank back the way it was.
    position: Mapped[int] = mapped_column(default=0)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "question_versions.id", use_alter=True, name="fk_questions_current_version"
        )
    )
    #: Set when the question left its file; retired questions are never drawn.
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    bank: Mapped[Bank] = relationship(back_populates="questions")
    #: Set through ``current_version_id`` only (see :mod:`quizapp.banks.sync`).
    current_version: Mapped[QuestionVersion | None] = relationship(
        foreign_keys=[current_version_id], viewonly=True
    )
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question",
        foreign_keys="QuestionVersion.question_id",
        order_by="QuestionVersion.number",
    )

    @property
    def ref(self) -> str:
        """``bank/id``, how quizzes name it."""
        return f"{self.bank.slug}/{self.key}"

    def __repr__(self) -> str:
        return f"<Question {self.key}>"


class QuestionVersion(db.Model):
    """One content of a question. Never updated once written."""

    __tablename__ = "question_versions"
    __table_args__ = (
        UniqueConstraint("question_id", "number", name="question_number"),
        UniqueConstraint("question_id", "content_hash", name="question_hash"),
        CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    #: 1, 2, 3... per question.
    number: Mapped[int]
    #: SHA-256 of the canonical content (including the hashes of its images).
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The canonical question dict the grading engine takes.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Image path (as written in the Markdown) -> SHA-256 of the file.
    assets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    type: Mapped[str] = mapped_column(String(16))
    difficulty: Mapped[str | None] = mapped_column(String(8))
    module: Mapped[str | None] = mapped_column(String(64))
    #: Bank tags and the question's own, sorted.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    points: Mapped[float]
    #: ``yaml`` (imported) or ``browser`` (edited on the site).
    source: Mapped[str] = mapped_column(String(16), default="yaml")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    question: Mapped[Question] = relationship(
        back_populates="versions", foreign_keys=[question_id]
    )

    def __repr__(self) -> str:
        return f"<QuestionVersion {self.question_id} v{self.number}>"


class AssetBlob(db.Model):
    """An image's bytes, stored once per content."""

    __tablename__ = "asset_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Quiz(db.Model):
    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint(_in("grading", GRADING_METHODS), name="grading_method"),
        CheckConstraint(_in("show_results", RESULTS_POLICIES), name="results_policy"),
        CheckConstraint("max_attempts >= 0", name="max_attempts_not_negative"),
        CheckConstraint(
            "time_limit_seconds IS NULL OR time_limit_seconds > 0",
            name="time_limit_positive",
        ),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at",
            name="window_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: None: untimed.
    time_limit_seconds: Mapped[int | None]
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: 0: unlimited.
    max_attempts: Mapped[int] = mapped_column(default=1)
    grading: Mapped[str] = mapped_column(String(16), default="highest")
    #: Percentage of the quiz total, 0-100; None: no pass mark.
    pass_mark: Mapped[float | None]
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_choices: Mapped[bool] = mapped_column(default=True)
    show_results: Mapped[str] = mapped_column(String(16), default="immediately")
    #: The sections as written: ``[{title, questions}|{title, draw, from}]``.
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    #: The window the files give. ``opens_at``/``closes_at`` equal it unless an
    #: organiser set the window in the browser (``window_set_at``): an import then
    #: updates these two and leaves the organiser's window alone.
    source_opens_at: Mapped[datetime | None]
    source_closes_at: Mapped[datetime | None]
    window_set_at: Mapped[datetime | None]
    window_set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Candidates may see their own rank and the top 10 (by name only).
    leaderboard_public: Mapped[bool] = mapped_column(default=False)

    @property
    def time_limit(self) -> timedelta | None:
        """``time_limit_seconds`` as a duration; None: untimed."""
        if self.time_limit_seconds is None:
            return None
        return timedelta(seconds=self.time_limit_seconds)

    def __repr__(self) -> str:
        return f"<Quiz {self.slug}>"


class Programme(db.Model):
    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("shortlist_size >= 1", name="shortlist_size_positive"),
        CheckConstraint(
            "finalist_count >= 1 AND finalist_count <= shortlist_size",
            name="finalist_count_range",
        ),
        CheckConstraint(
            "weight_screening >= 0 AND weight_modules >= 0 AND weight_project >= 0 "
            "AND weight_screening + weight_modules + weight_project > 0",
            name="weights_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    screening_quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id"))
    shortlist_size: Mapped[int] = mapped_column(default=100)
    finalist_count: Mapped[int] = mapped_column(default=50)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Set by organisers in the browser, never by an import (the files do not own
    # them): the weights of the combined score that ranks the cohort for the
    # finals, and when each list was shown to candidates.
    weight_screening: Mapped[float] = mapped_column(default=20.0)
    weight_modules: Mapped[float] = mapped_column(default=40.0)
    weight_project: Mapped[float] = mapped_column(default=40.0)
    shortlist_published_at: Mapped[datetime | None]
    finalists_published_at: Mapped[datetime | None]
    #: When the judges' project scores were shown to participants.
    projects_published_at: Mapped[datetime | None]

    screening_quiz: Mapped[Quiz | None] = relationship()
    modules: Mapped[list[ProgrammeModule]] = relationship(
        back_populates="programme",
        order_by="ProgrammeModule.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Programme {self.slug}>"


class ProgrammeModule(db.Model):
    __tablename__ = "programme_modules"
    __table_args__ = (UniqueConstraint("programme_id", "slug", name="programme_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int]
    is_project: Mapped[bool] = mapped_column(default=False)
    #: ``[{criterion, points, description}]`` for project modules.
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    programme: Mapped[Programme] = relationship(back_populates="modules")
    assessments: Mapped[list[ModuleAssessment]] = relationship(
        order_by="ModuleAssessment.position", cascade="all, delete-orphan"
    )

    @property
    def quizzes(self) -> list[Quiz]:
        return [assessment.quiz for assessment in self.assessments]


class ModuleAssessment(db.Model):
    __tablename__ = "module_assessments"

    module_id: Mapped[int] = mapped_column(
        ForeignKey("programme_modules.id", ondelete="CASCADE"), primary_key=True
    )
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), primary_key=True)
    position: Mapped[int]

    quiz: Mapped[Quiz] = relationship()
