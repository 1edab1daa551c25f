"""Statistics pages of a quiz: the item analysis and its chart's JSON."""

from __future__ import annotations

from flask import abort, jsonify, render_template, request

from quizapp.accounts.models import STAFF_ROLES
from quizapp.core.auth import role_required
from quizapp.delivery.views import quiz_or_404
from quizapp.statistics import bp, report
from quizapp.statistics.queries import ATTEMPT_SETS, DEFAULT_ATTEMPTS


def _attempt_set() -> str:
    """``?attempts=first|last|all`` (default first).

    :raise 400: any other value.
    """
    which = request.args.get("attempts", DEFAULT_ATTEMPTS)
    if which not in ATTEMPT_SETS:
        abort(400)
    return which


@bp.get("/staff/quizzes/<slug>/statistics")
@role_required(*STAFF_ROLES)
def quiz_statistics(slug: str):
    """Facility, discrimination and option counts of every question, and the
    quiz's mean, median, standard deviation and reliability."""
    quiz = quiz_or_404(slug)
    which = _attempt_set()
    return render_template(
        "statistics/quiz.html",
        quiz=quiz,
        stats=report.quiz_statistics(quiz, which),
        attempt_sets=ATTEMPT_SETS,
        flags=report.FLAGS,
        thresholds={
            "weak": report.WEAK_BELOW,
            "too_easy": report.TOO_EASY_ABOVE,
            "too_hard": report.TOO_HARD_BELOW,
        },
    )


@bp.get("/staff/quizzes/<slug>/statistics/chart.json")
@role_required(*STAFF_ROLES)
def scatter_chart(slug: str):
    """The points of the facility-against-discrimination chart."""
    quiz = quiz_or_404(slug)
    stats = report.quiz_statistics(quiz, _attempt_set(), with_options=False)
    return jsonify(report.scatter(stats))
