"""Races a candidate can cause: a double click on Start, two tabs submitting, a save
racing the submit. Each side runs in its own thread with its own database session."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from quizapp.accounts.models import User
from quizapp.banks.models import Quiz
from quizapp.core import clock
from quizapp.delivery import services
from quizapp.delivery.models import FINALIZED, AnswerEvent, Attempt
from quizapp.extensions import db
from tests.factories import make_quiz, make_user

ORIGIN = services.Origin("autosave")


def in_parallel(app, works: list[Callable[[], object]]) -> list[object]:
    """Run each of ``works`` in its own thread, as a POST request would (its own
    request context and session), all at once; each commits. Returns what each
    returned, or the exception it raised."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(index: int) -> None:
        with app.test_request_context(method="POST"):
            try:
                barrier.wait()
                results[index] = works[index]()
                db.session.commit()
            except Exception as exc:  # the test asserts on what was raised
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.rollback()  # read what the threads committed, not an old snapshot
    return results


def test_parallel_starts_give_one_attempt(app, tmp_path):
    quiz_id, user_id = make_quiz(tmp_path).id, make_user().id

    def start() -> int:
        user, quiz = db.session.get(User, user_id), db.session.get(Quiz, quiz_id)
        return services.start_attempt(user, quiz, clock.now()).id

    results = in_parallel(app, [start] * 4)

    assert len(set(results)) == 1, results
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1


def test_parallel_submits_grade_once(app, tmp_path):
    quiz = make_quiz(tmp_path)
    attempt_id = services.start_attempt(make_user(), quiz, clock.now()).id
    db.session.commit()

    def submit() -> bool:
        return services.submit_attempt(db.session.get(Attempt, attempt_id), clock.now())

    results = in_parallel(app, [submit] * 3)

    assert sorted(results, key=str) == [False, False, True], results
    assert db.session.get(Attempt, attempt_id).status == FINALIZED


def test_a_save_racing_the_submit_is_either_kept_or_refused(app, tmp_path):
    quiz = make_quiz(tmp_path, shuffle=False)
    attempt_id = services.start_attempt(make_user(), quiz, clock.now()).id
    db.session.commit()

    def save():
        attempt = db.session.get(Attempt, attempt_id)
        item = services.item_at(attempt, 3)
        return services.save_response(attempt, item, True, clock.now(), ORIGIN)

    def submit():
        attempt = db.session.get(Attempt, attempt_id)
        return services.submit_attempt(attempt, clock.now())

    saved, submitted = in_parallel(app, [save, submit])

    assert submitted is True
    attempt = db.session.get(Attempt, attempt_id)
    stored = db.session.scalar(select(func.count()).select_from(AnswerEvent))
    if isinstance(saved, services.AttemptClosed):
        assert stored == 0  # refused: arrived after the submit
        assert attempt.score == 0
    else:
        assert saved.saved  # kept, and graded with the attempt
        assert stored == 1
        assert attempt.score == 1
