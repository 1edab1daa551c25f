"""The bootcamp's records: each participant's progress through the modules, the
judges' rubric scores of the mini-projects, and the certificates.

:class:`ModuleProgress` is derived data, rewritten from the attempts and the reviews
by :mod:`quizapp.bootcamp.progress` (never adjusted); :class:`ProjectReview` and
:class:`Certificate` are the judges' and the organisers' own records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.core import clock
from quizapp.extensions import db

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
PROGRESS_STATES = (NOT_STARTED, IN_PROGRESS, COMPLETED)
STATE_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
}


class ModuleProgress(db.Model):
    """Where one participant stands in one module.

    A row exists once the participant has finished an attempt at one of the
    module's assessments or a judge has scored their project; no row means not
    started.
    """

    __tablename__ = "module_progress"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in PROGRESS_STATES)),
            name="status_known",
        ),
        Index("ix_module_progress_programme_user", "programme_id", "user_id"),
    )

    module_id: Mapped[int] = mapped_column(
        ForeignKey("programme_modules.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    #: Assessments passed, of ``required``.
    passed: Mapped[int]
    required: Mapped[int]
    #: Per assessment quiz id (as a string): ``{"best": percent, "passed": bool,
    #: "attempts": n}`` over the participant's finished attempts.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Project modules: the mean of the judges' percentages, and how many judged.
    project_score: Mapped[float | None]
    reviews: Mapped[int] = mapped_column(default=0)
    #: When the last requirement was met (the passing attempt or the first review).
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class ProjectReview(db.Model):
    """One judge's rubric scores of one participant's project.

    Keyed by the module's slug, not its row: an import that drops the module from
    the files leaves the judges' work in place (and re-adding the slug brings it
    back). ``criteria`` keeps the rubric as scored, so a later rubric change does
    not rewrite what a judge gave.
    """

    __tablename__ = "project_reviews"
    __table_args__ = (
        UniqueConstraint(
            "programme_id", "module_slug", "participant_id", "judge_id", name="one_each"
        ),
        CheckConstraint("max_points > 0", name="max_points_positive"),
        CheckConstraint("points >= 0 AND points <= max_points", name="points_range"),
        Index("ix_project_reviews_participant", "programme_id", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    module_slug: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    judge_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: ``[{criterion, points, max}]`` in rubric order.
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    points: Mapped[float]
    max_points: Mapped[float]
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    participant = relationship("User", foreign_keys=[participant_id])
    judge = relationship("User", foreign_keys=[judge_id])

    @property
    def percent(self) -> float:
        return self.points * 100.0 / self.max_points


class Certificate(db.Model):
    """A certificate of completion, verifiable by its code at ``/verify/<code>``.

    What it says is kept as issued (name, programme, modules, date), so the PDF
    and the verification page do not change when the account or the programme
    does. A revoked certificate stays, marked revoked; a new one may be issued.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        # At most one valid certificate per participant and programme.
        Index(
            "uq_certificates_valid",
            "programme_id",
            "user_id",
            unique=True,
            sqlite_where=db.text("revoked_at IS NULL"),
            postgresql_where=db.text("revoked_at IS NULL"),
        ),
        Index("ix_certificates_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_name: Mapped[str] = mapped_column(String(200))
    programme_title: Mapped[str] = mapped_column(String(200))
    #: Module titles in programme order.
    modules: Mapped[list[str]] = mapped_column(JSON)
    completed_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    revoke_reason: Mapped[str | None] = mapped_column(String(500))

    user = relationship("User", foreign_keys=[user_id])
    programme = relationship("Programme")

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
