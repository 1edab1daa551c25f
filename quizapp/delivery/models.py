"""Timed attempts: what was drawn, what was answered, when, and how it was graded.

An :class:`Attempt` fixes everything at start: the questions (as immutable
:class:`~quizapp.banks.models.QuestionVersion` rows), their order, each item's
variant seed and drawn values, the display order of choices, and the deadline. The
deadline is the only clock a candidate races: every save re-checks it, and an attempt
past it is finalized with what was saved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quizapp.banks.models import Programme, QuestionVersion, Quiz
from quizapp.core import clock
from quizapp.extensions import db

IN_PROGRESS = "in_progress"
FINALIZED = "finalized"
STATUSES = (IN_PROGRESS, FINALIZED)

#: Why an attempt ended.
SUBMITTED = "submitted"
TIMED_OUT = "timed_out"
FINISH_REASONS = (SUBMITTED, TIMED_OUT)

#: Integrity signals: what the page or the server noticed, never a verdict.
SIGNAL_KINDS = ("focus_lost", "hidden", "ip_changed", "browser_changed")
#: The kinds the page itself reports; the others the server notices.
PAGE_SIGNAL_KINDS = ("focus_lost", "hidden")


class Attempt(db.Model):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number", name="user_quiz_number"),
        CheckConstraint(
            f"status IN ('{IN_PROGRESS}', '{FINALIZED}')", name="status_known"
        ),
        CheckConstraint(
            f"(status = '{IN_PROGRESS}' AND finished_at IS NULL "
            "AND finish_reason IS NULL AND score IS NULL AND seconds_used IS NULL) OR "
            f"(status = '{FINALIZED}' AND finished_at IS NOT NULL "
            "AND finish_reason IS NOT NULL AND score IS NOT NULL "
            "AND seconds_used IS NOT NULL)",
            name="status_matches_finish",
        ),
        CheckConstraint(
            "deadline_at IS NULL OR deadline_at >= started_at", name="deadline_order"
        ),
        # At most one running attempt per candidate and quiz: a double click or a
        # second tab that races the first gets the same attempt (see start_attempt).
        Index(
            "uq_attempts_one_running",
            "user_id",
            "quiz_id",
            unique=True,
            sqlite_where=text(f"status = '{IN_PROGRESS}'"),
            postgresql_where=text(f"status = '{IN_PROGRESS}'"),
        ),
        # finalize-expired scans running attempts by deadline.
        Index("ix_attempts_status_deadline", "status", "deadline_at"),
        # Leaderboards: a quiz's finalized attempts, per candidate.
        Index("ix_attempts_quiz_status", "quiz_id", "status", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    #: 1 for the candidate's first attempt at the quiz, 2 for the next...
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    #: Random; every item's variant seed and display order derive from it.
    seed: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    #: None only for an untimed quiz without a closing time.
    deadline_at: Mapped[datetime | None]
    #: Set when finalized: the submit time, or the deadline for a timed-out attempt
    #: (never the time a sweep happened to run).
    finished_at: Mapped[datetime | None]
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    #: ``finished_at - started_at`` in seconds, set when finalized: leaderboards
    #: break ties on it, and a column can be indexed where an expression could not.
    seconds_used: Mapped[float | None]
    score: Mapped[float | None]
    max_score: Mapped[float]
    #: None when the quiz has no pass mark.
    passed: Mapped[bool | None]
    #: Where the attempt was last seen from, to notice changes (integrity signals).
    last_ip: Mapped[str | None] = mapped_column(String(64))
    last_user_agent: Mapped[str | None] = mapped_column(String(300))

    quiz: Mapped[Quiz] = relationship()
    user = relationship("User")
    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt",
        order_by="AttemptItem.position",
        cascade="all, delete-orphan",
    )
    signals: Mapped[list[IntegritySignal]] = relationship(
        order_by="IntegritySignal.at", cascade="all, delete-orphan"
    )

    @property
    def is_finalized(self) -> bool:
        return self.status == FINALIZED

    @hybrid_method
    def is_expired_at(self, moment: datetime, grace: timedelta) -> bool:
        """True when a running attempt's deadline (plus ``grace``) has passed."""
        return (
            self.status == IN_PROGRESS
            and self.deadline_at is not None
            and moment > self.deadline_at + grace
        )

    @is_expired_at.expression
    def is_expired_at(cls, moment: datetime, grace: timedelta):
        return (
            (cls.status == IN_PROGRESS)
            & cls.deadline_at.is_not(None)
            & (cls.deadline_at < moment - grace)
        )

    def remaining_seconds(self, moment: datetime) -> int | None:
        """Whole seconds left before the deadline (0 once it passed); None untimed."""
        if self.deadline_at is None:
            return None
        return max(0, int((self.deadline_at - moment).total_seconds()))

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100 * self.score / self.max_score

    def item_at(self, position: int) -> AttemptItem | None:
        if 1 <= position <= len(self.items):
            return self.items[position - 1]
        return None

    def __repr__(self) -> str:
        return f"<Attempt {self.id} {self.status}>"


class AttemptItem(db.Model):
    """One question of an attempt, with the candidate's current answer to it.

    The answer lives on the item, so two tabs saving the same question simply
    overwrite each other (the last write wins); every save is also appended to
    :class:`AnswerEvent`.
    """

    __tablename__ = "attempt_items"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position", name="attempt_position"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE")
    )
    #: 1-based, the order the candidate sees.
    position: Mapped[int]
    section_title: Mapped[str | None] = mapped_column(String(200))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("question_versions.id"), index=True
    )
    #: Seeds the variant's values and the display order of choices.
    variant_seed: Mapped[str] = mapped_column(String(100))
    #: Whether choices, items and options are shown shuffled (by ``variant_seed``).
    is_shuffled: Mapped[bool] = mapped_column(default=True)
    #: The parameter values drawn from ``variant_seed`` (kept for the record).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    points: Mapped[float]
    #: The current answer in the grading engine's format; None: not answered.
    response: Mapped[Any | None] = mapped_column(JSON)
    saved_at: Mapped[datetime | None]
    is_flagged: Mapped[bool] = mapped_column(default=False)
    #: Set when the attempt is finalized (and by a regrade).
    score: Mapped[float | None]
    #: Set when the question's own answer could not be computed for these values:
    #: the item scores 0 and the instructor should look at it.
    grading_error: Mapped[str | None] = mapped_column(String(300))

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship()

    @property
    def is_answered(self) -> bool:
        return self.saved_at is not None and not _is_blank(self.response)


def _is_blank(response: Any) -> bool:
    if isinstance(response, str):
        return not response.strip()
    if isinstance(response, dict):
        return all(_is_blank(value) for value in response.values())
    return response is None or response == []


class AnswerEvent(db.Model):
    """Append-only history of every save, so a disputed result can be rebuilt."""

    __tablename__ = "answer_events"
    __table_args__ = (Index("ix_answer_events_attempt_at", "attempt_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    response: Mapped[Any | None] = mapped_column(JSON)
    is_flagged: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=clock.now)
    #: ``autosave`` (JSON) or ``form`` (a plain post).
    channel: Mapped[str] = mapped_column(String(16))
    #: A random id of the browser session that saved, and where it came from.
    browser_session: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))


class IntegritySignal(db.Model):
    """Something worth a look beside an attempt: focus lost, a new IP address..."""

    __tablename__ = "integrity_signals"
    __table_args__ = (
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in SIGNAL_KINDS)),
            name="kind_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    #: e.g. the old and new IP address, or how long the page was hidden.
    detail: Mapped[str | None] = mapped_column(String(300))


class Accommodation(db.Model):
    """Extra time or attempts for one candidate, on one quiz or a whole programme.

    The time a candidate gets is ``time_limit * time_multiplier + extra_minutes``.
    Their own window closes later by the same bonus (or at ``closes_at`` when set),
    so a quiz's closing time never silently cuts an extension short. A quiz-level
    accommodation replaces a programme-level one for that quiz.
    """

    __tablename__ = "accommodations"
    __table_args__ = (
        CheckConstraint(
            "(quiz_id IS NULL) <> (programme_id IS NULL)", name="one_scope"
        ),
        CheckConstraint("extra_minutes >= 0", name="extra_minutes_not_negative"),
        CheckConstraint(
            "time_multiplier >= 1 AND time_multiplier <= 10", name="multiplier_range"
        ),
        CheckConstraint("extra_attempts >= 0", name="extra_attempts_not_negative"),
        UniqueConstraint("user_id", "quiz_id", name="user_quiz"),
        UniqueConstraint("user_id", "programme_id", name="user_programme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    extra_minutes: Mapped[int] = mapped_column(default=0)
    time_multiplier: Mapped[float] = mapped_column(default=1.0)
    extra_attempts: Mapped[int] = mapped_column(default=0)
    #: The candidate's own closing time, when the organiser sets one.
    closes_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(300))
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)

    user = relationship("User", foreign_keys=[user_id])
    quiz: Mapped[Quiz | None] = relationship()
    programme: Mapped[Programme | None] = relationship()

    def bonus(self, time_limit: timedelta | None) -> timedelta:
        """The time this adds to ``time_limit`` (and to the window's close)."""
        extra = timedelta(minutes=self.extra_minutes)
        if time_limit is not None:
            extra += time_limit * (self.time_multiplier - 1)
        return extra
