"""Who moved through a programme's funnel: the bootcamp cohort (the shortlist), the
finalists, the finalists' consent to share their profile, and the partner companies
with their openings and the interest they marked.

A :class:`Selection` row means "this person is on this list now"; taking someone off
deletes the row. Every change, ranked or by hand, is also written to the audit log
(:mod:`quizapp.core.audit`) with who, when and why, which is what the pages show as
the history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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

#: The two lists a programme keeps.
SHORTLIST = "shortlist"
FINALISTS = "finalists"
STAGES = (SHORTLIST, FINALISTS)

#: On a list, or next in line if someone drops out.
SELECTED = "selected"
WAITLISTED = "waitlisted"
STATUSES = (SELECTED, WAITLISTED)

#: How a row got there.
BY_RANK = "rank"
BY_HAND = "hand"

OPENING_KINDS = ("internship", "job")


class Selection(db.Model):
    __tablename__ = "selections"
    __table_args__ = (
        UniqueConstraint("programme_id", "stage", "user_id", name="one_per_stage"),
        CheckConstraint(f"stage IN ('{SHORTLIST}', '{FINALISTS}')", name="stage_known"),
        CheckConstraint(
            f"status IN ('{SELECTED}', '{WAITLISTED}')", name="status_known"
        ),
        CheckConstraint(f"source IN ('{BY_RANK}', '{BY_HAND}')", name="source_known"),
        Index("ix_selections_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    stage: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))
    #: The leaderboard rank and score when the row was made (None: added by hand
    #: without a ranked result).
    rank: Mapped[int | None]
    score: Mapped[float | None]
    #: Why, for rows added by hand.
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    user = relationship("User", foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Selection {self.stage} {self.status} user={self.user_id}>"


class Consent(db.Model):
    """A finalist's agreement to show their profile to the programme's partners.

    Revoking keeps the row with ``revoked_at`` set, so the page can say when.
    """

    __tablename__ = "profile_consents"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]

    @property
    def is_given(self) -> bool:
        return self.revoked_at is None


class Company(db.Model):
    """A partner company; partner accounts belong to one."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (UniqueConstraint("programme_id", "name", name="name_unique"),)

    openings: Mapped[list[Opening]] = relationship(
        back_populates="company", order_by="Opening.id", cascade="all, delete-orphan"
    )
    members: Mapped[list[PartnerMember]] = relationship(
        back_populates="company", cascade="all, delete-orphan"
    )


class PartnerMember(db.Model):
    """A partner account and the company it speaks for."""

    __tablename__ = "partner_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )

    company: Mapped[Company] = relationship(back_populates="members")
    user = relationship("User")


class Opening(db.Model):
    """An internship or a job a partner recruits finalists for."""

    __tablename__ = "openings"
    __table_args__ = (
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in OPENING_KINDS)),
            name="kind_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    company: Mapped[Company] = relationship(back_populates="openings")


class Interest(db.Model):
    """A partner's interest in a finalist for one of its openings."""

    __tablename__ = "interests"

    opening_id: Mapped[int] = mapped_column(
        ForeignKey("openings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    note: Mapped[str | None] = mapped_column(String(500))
    marked_at: Mapped[datetime] = mapped_column(default=clock.now)
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    opening: Mapped[Opening] = relationship()
    marked_by = relationship("User", foreign_keys=[marked_by_id])


class Standing(db.Model):
    """A candidate's counting attempt at a quiz (by the quiz's grading method), kept
    so a leaderboard reads one indexed table instead of ranking every attempt.

    Derived data only: :mod:`quizapp.programmes.standings` rewrites the rows of a
    candidate when one of their attempts is finalized or regraded, and a whole
    quiz's rows when an import changes the quiz (its grading method may change);
    ``flask leaderboards rebuild`` recomputes everything from the attempts.
    """

    __tablename__ = "standings"

    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    attempt_number: Mapped[int]
    #: How many attempts the candidate finished.
    attempts: Mapped[int]
    score: Mapped[float]
    max_score: Mapped[float]
    #: ``score`` over ``max_score``, 0-100.
    percent: Mapped[float]
    seconds_used: Mapped[float]
    finished_at: Mapped[datetime]
    passed: Mapped[bool | None]
    #: The candidate's registration time: the order inside a shared rank.
    user_created_at: Mapped[datetime]


# The leaderboard's order; a page is read straight off this index.
Index(
    "ix_standings_rank",
    Standing.quiz_id,
    Standing.percent.desc(),
    Standing.seconds_used,
    Standing.finished_at,
    Standing.user_created_at,
    Standing.user_id,
)
