"""Staff pages of delivery: a quiz's attempts with their integrity signals, one
attempt in full (answers, history, signals), and the candidates' accommodations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from quizapp.accounts import services as accounts
from quizapp.accounts.models import STAFF_ROLES, Role
from quizapp.banks.models import Programme, Question, QuestionVersion
from quizapp.core import clock
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError, pour_onto
from quizapp.delivery import bp, presenters, services
from quizapp.delivery.forms import AccommodationForm, AttemptForm
from quizapp.delivery.models import (
    Accommodation,
    AnswerEvent,
    Attempt,
    AttemptItem,
    IntegritySignal,
)
from quizapp.delivery.views import quiz_or_404
from quizapp.extensions import db

#: Rows on the attempts page (newest first); the leaderboard pages page properly.
ATTEMPTS_SHOWN = 500
ORGANISERS = (Role.organiser, Role.admin)


@bp.get("/staff/quizzes/<slug>/attempts")
@role_required(*STAFF_ROLES)
def quiz_attempts(slug: str):
    """The quiz's attempts, newest first, with a count of integrity signals."""
    quiz = quiz_or_404(slug)
    signals = (
        select(func.count())
        .where(IntegritySignal.attempt_id == Attempt.id)
        .correlate(Attempt)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Attempt, signals)
        .where(Attempt.quiz_id == quiz.id)
        .options(selectinload(Attempt.user))
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
    ).all()
    return render_template(
        "delivery/staff_attempts.html", quiz=quiz, rows=rows, now=clock.now()
    )


@bp.get("/staff/attempts/<int:attempt_id>")
@role_required(*STAFF_ROLES)
def attempt_detail(attempt_id: int):
    """Every item with the answer and score, the save history and the signals."""
    attempt = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == attempt_id)
        .options(
            selectinload(Attempt.items)
            .selectinload(AttemptItem.version)
            .selectinload(QuestionVersion.question)
            .selectinload(Question.bank)
        )
    )
    if attempt is None:
        abort(404)
    history = db.session.scalars(
        select(AnswerEvent)
        .where(AnswerEvent.attempt_id == attempt.id)
        .order_by(AnswerEvent.at, AnswerEvent.id)
    ).all()
    items = [presenters.result_item(item) for item in attempt.items]
    return render_template(
        "delivery/staff_attempt.html",
        attempt=attempt,
        items=items,
        history=history,
        terms=services.terms_for(attempt.user_id, attempt.quiz),
    )


@bp.route("/staff/quizzes/<slug>/accommodations", methods=["GET", "POST"])
@role_required(*ORGANISERS)
def accommodations(slug: str):
    """Grant extra time or attempts on this quiz or on a programme it is part of."""
    quiz = quiz_or_404(slug)
    programmes = db.session.scalars(
        select(Programme).where(Programme.id.in_(services.programmes_of(quiz)))
    ).all()
    form = AccommodationForm()
    form.scope.choices = [("quiz", f"This quiz ({quiz.title})")] + [
        (f"programme-{p.id}", f"Every quiz of {p.title}") for p in programmes
    ]
    if form.validate_on_submit():
        try:
            _grant(form, quiz, programmes)
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            flash(f"Accommodation saved for {form.email.data}.", "success")
            return redirect(url_for("delivery.accommodations", slug=slug))
    return render_template(
        "delivery/staff_accommodations.html",
        quiz=quiz,
        form=form,
        rows=_accommodations_of(quiz),
        revoke_form=AttemptForm(),
    ), (422 if form.errors or form.form_errors else 200)


def _grant(form: AccommodationForm, quiz, programmes: list[Programme]) -> None:
    user = accounts.find_by_email(form.email.data)
    if user is None or not user.has_role(Role.candidate):
        raise DomainError("No candidate has this e-mail address.", field="email")
    closes_at = clock.from_local(form.closes_at.data)
    programme = next(
        (p for p in programmes if form.scope.data == f"programme-{p.id}"), None
    )
    services.grant_accommodation(
        user,
        quiz=None if programme else quiz,
        programme=programme,
        extra_minutes=form.extra_minutes.data or 0,
        time_multiplier=float(form.time_multiplier.data or 1),
        extra_attempts=form.extra_attempts.data or 0,
        closes_at=closes_at,
        reason=form.reason.data or None,
        actor=current_user,
        now=clock.now(),
    )


def _accommodations_of(quiz) -> list[tuple[Accommodation, services.Availability]]:
    scoped = select(Accommodation).where(services.accommodations_on(quiz))
    rows = db.session.scalars(
        scoped.options(selectinload(Accommodation.user)).order_by(Accommodation.id)
    ).all()
    now = clock.now()
    return [(row, services.availability(row.user_id, quiz, now)) for row in rows]


@bp.post("/staff/quizzes/<slug>/accommodations/<int:accommodation_id>/revoke")
@role_required(*ORGANISERS)
def revoke_accommodation(slug: str, accommodation_id: int):
    """:raise 404: for an accommodation that does not apply to this quiz."""
    quiz = quiz_or_404(slug)
    accommodation = db.session.scalar(
        select(Accommodation).where(
            Accommodation.id == accommodation_id, services.accommodations_on(quiz)
        )
    )
    if accommodation is None or not AttemptForm().validate_on_submit():
        abort(404 if accommodation is None else 400)
    services.revoke_accommodation(accommodation, actor=current_user)
    db.session.commit()
    flash("Accommodation removed; running attempts have their standard time.", "info")
    return redirect(url_for("delivery.accommodations", slug=quiz.slug))
