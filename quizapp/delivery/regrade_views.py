"""Staff pages of a regrade: a quiz's questions with attempts on an older version,
the dry run of regrading one of them, and applying it (see :mod:`.regrade`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from quizapp.accounts.models import Role
from quizapp.banks.models import Question, Quiz
from quizapp.core.auth import role_required
from quizapp.core.errors import Conflict, pour_onto
from quizapp.delivery import bp, regrade
from quizapp.delivery.views import quiz_or_404
from quizapp.extensions import db

REGRADERS = (Role.instructor, Role.organiser, Role.admin)
#: Changed attempts listed on the dry run (the counts above the table are exact).
ROWS_SHOWN = 500


class RegradeForm(FlaskForm):
    #: :attr:`regrade.RegradePlan.digest` of the dry run on the page.
    digest = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


@bp.get("/staff/quizzes/<slug>/regrade")
@role_required(*REGRADERS)
def regrade_index(slug: str):
    """The quiz's questions with attempts on an older version, and past regrades."""
    quiz = quiz_or_404(slug)
    return render_template(
        "delivery/regrade_index.html",
        quiz=quiz,
        rows=regrade.stale_questions(quiz),
        history=regrade.regrades_of(quiz),
    )


@bp.get("/staff/quizzes/<slug>/regrade/<int:question_id>")
@role_required(*REGRADERS)
def regrade_dry_run(slug: str, question_id: int):
    """What regrading the question would change; nothing is written.

    :raise 404: an unknown question, or one that is not in the quiz.
    """
    quiz = quiz_or_404(slug)
    question = _question_or_404(quiz, question_id)
    plan = regrade.plan_regrade(quiz, question)
    return _dry_run(quiz, plan, RegradeForm(digest=plan.digest))


@bp.post("/staff/quizzes/<slug>/regrade/<int:question_id>")
@role_required(*REGRADERS)
def apply_regrade(slug: str, question_id: int):
    """Apply the dry run that was shown; if it is out of date, show the new one."""
    quiz = quiz_or_404(slug)
    question = _question_or_404(quiz, question_id)
    form = RegradeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = regrade.apply_regrade(
            quiz, question, current_user, expected=form.digest.data
        )
    except Conflict as error:
        db.session.rollback()
        plan = regrade.plan_regrade(quiz, question)
        form = RegradeForm(formdata=None, digest=plan.digest)
        pour_onto(form, error)
        return _dry_run(quiz, plan, form), 409
    db.session.commit()
    flash(regrade.summary(result), "info" if result.is_empty else "success")
    return redirect(url_for("delivery.regrade_index", slug=quiz.slug))


def _question_or_404(quiz: Quiz, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or not regrade.is_in_quiz(quiz, question):
        abort(404)
    return question


def _dry_run(quiz: Quiz, plan: regrade.RegradePlan, form: RegradeForm) -> str:
    changed = sorted(
        plan.changed,
        key=lambda a: (not (a.now_passes or a.no_longer_passes), a.name, a.number),
    )
    moves: dict[int, list[regrade.CutOffMove]] = {}
    for move in plan.moves:
        moves.setdefault(move.user_id, []).append(move)
    return render_template(
        "delivery/regrade_dry_run.html",
        quiz=quiz,
        plan=plan,
        form=form,
        rows=changed[:ROWS_SHOWN],
        hidden_rows=max(0, len(changed) - ROWS_SHOWN),
        moves_by_user=moves,
    )
