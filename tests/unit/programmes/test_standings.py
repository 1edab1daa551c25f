"""Standings follow the attempts: finalize, a quiz's grading method changed by an
import, and a rebuild from scratch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from quizapp.delivery import services
from quizapp.extensions import db
from quizapp.programmes import ranking
from quizapp.programmes.models import Standing
from tests.factories import make_finished_attempt, make_quiz, make_user, right_answers

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_finalized_attempt_enters_the_leaderboard(app, tmp_path):
    quiz = make_quiz(tmp_path, "live", time_limit=None)
    user = make_user()
    attempt = services.start_attempt(user, quiz, T0, "10.0.0.1", "Firefox")
    origin = services.Origin("form", "b", "10.0.0.1", "Firefox")
    for position, response in right_answers(attempt).items():
        services.save_response(
            attempt, services.item_at(attempt, position), response, T0, origin
        )
    assert ranking.leaderboard(quiz).total == 0

    services.submit_attempt(attempt, T0 + timedelta(minutes=7))
    db.session.commit()

    (row,) = ranking.leaderboard(quiz).rows
    assert (row.user_id, row.percent, row.seconds_used) == (user.id, 100.0, 420.0)


def test_an_import_that_changes_the_grading_method_reranks(app, tmp_path):
    quiz = make_quiz(tmp_path, "regrade-me", attempts=2, grading="highest")
    user = make_user()
    make_finished_attempt(user, quiz, 90, finished_at=T0)
    make_finished_attempt(user, quiz, 40, finished_at=T0 + timedelta(hours=1))
    assert ranking.leaderboard(quiz).rows[0].percent == 90

    make_quiz(tmp_path, "regrade-me", attempts=2, grading="latest")

    assert ranking.leaderboard(quiz).rows[0].percent == 40


def test_rebuild_recomputes_lost_standings(app, runner, tmp_path):
    quiz = make_quiz(tmp_path, "lost")
    for percent in (30, 60):
        make_finished_attempt(make_user(), quiz, percent, finished_at=T0)
    db.session.execute(delete(Standing))
    db.session.commit()

    result = runner.invoke(args=["leaderboards", "rebuild"])

    assert result.exit_code == 0
    assert "2 standings rebuilt." in result.output
    assert db.session.scalars(
        select(Standing.percent).order_by(Standing.percent)
    ).all() == [30, 60]
